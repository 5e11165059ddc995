//! Submissions: a test enters the balancer's queue, or is rejected at once
//! when no worker that ever registered could hold it.

use super::{Core, TestEntry};
use crate::api::{Rejection, Submitted, TestRequest, TestState};
use crate::balancer::model::TestSpec;
use crate::sim::SimTime;
use crate::store::Op;
use crate::workload::trace::recording::Fact;
use indexmap::IndexMap;

/// The number a string gets, the first time it is seen.
fn intern(table: &mut IndexMap<String, u32>, s: &str) -> u32 {
    if let Some(&n) = table.get(s) {
        return n;
    }
    let n = table.len() as u32;
    table.insert(s.to_string(), n);
    n
}

impl Core {
    /// The balancer's view of a request, with its strings interned.
    pub(super) fn spec_of(&mut self, r: &TestRequest) -> crate::balancer::model::TestSpec {
        let key = r
            .concurrency_key
            .as_deref()
            .map(|k| intern(&mut self.keys, k));
        let family = r
            .model_family
            .as_deref()
            .map_or(0, |f| intern(&mut self.families, f) + 1);
        r.to_spec(key, family)
    }

    /// Why no registered worker could ever hold this test, if none could.
    /// While no worker has registered at all, every test waits.
    fn rejection(&self, spec: &crate::balancer::model::TestSpec, labels: bool) -> Option<String> {
        let shape = spec.shape();
        if self.shapes.is_empty() || self.shapes.iter().any(|w| shape.fits_spec(w)) {
            return None;
        }
        if labels {
            return Some("no worker could ever hold it (no registered worker carries all its labels and offers what it needs)".into());
        }
        Some("no worker could ever hold it (more memory, devices, cores or another backend than any registered worker offers)".into())
    }

    /// Accepts validated requests, in order, then runs a scheduling pass.
    pub fn submit(&mut self, requests: Vec<TestRequest>, now: u64) -> Submitted {
        let mut answer = Submitted {
            test_ids: Vec::with_capacity(requests.len()),
            rejected: Vec::new(),
        };
        for mut request in requests {
            let id = self.tests.len() as u64 + 1;
            self.fill_duration(&mut request);
            let (spec, rejected) = match self.labelled_spec(&request) {
                Ok(spec) => {
                    let rejected = self.rejection(&spec, !request.labels.is_empty());
                    (spec, rejected)
                }
                Err((spec, why)) => (spec, Some(why)),
            };
            let text = serde_json::to_string(&request).unwrap_or_default();
            self.out.ops.push(Op::TestSubmitted {
                id,
                request: text,
                at: now,
                rejected: rejected.clone(),
            });
            let fact = Fact::submit(
                id,
                &spec,
                rejected.clone(),
                request.name.clone(),
                request.labels.clone(),
            );
            self.fact(now, fact);
            let state = if rejected.is_some() {
                TestState::Rejected
            } else {
                TestState::Pending
            };
            self.tests.push(TestEntry::new(
                request,
                spec.clone(),
                state,
                now,
                rejected.clone(),
            ));
            self.counts[state as usize] += 1;
            self.totals.submitted += 1;
            answer.test_ids.push(id);
            match rejected {
                Some(reason) => {
                    self.totals.rejected += 1;
                    answer.rejected.push(Rejection {
                        test_id: id,
                        reason,
                    });
                }
                None => {
                    let accepted = self.balancer.submit(
                        crate::balancer::model::TestId(id),
                        spec,
                        SimTime(now),
                    );
                    debug_assert!(accepted.is_ok(), "the balancer holds every shape");
                }
            }
        }
        self.schedule(now);
        answer
    }
}

impl TestEntry {
    /// A test as it is submitted: no run yet; a rejected one is final.
    fn new(
        request: TestRequest,
        spec: TestSpec,
        state: TestState,
        now: u64,
        rejected: Option<String>,
    ) -> TestEntry {
        TestEntry {
            request,
            spec,
            state,
            submitted_us: now,
            first_assigned_us: None,
            started_us: None,
            finished_us: rejected.as_ref().map(|_| now),
            worker: None,
            lease: None,
            attempts: 0,
            losses: 0,
            run_time_s: None,
            result: None,
            reason: rejected,
            exit_code: None,
            log_tail: None,
            runs: Vec::new(),
            assign_seq: 0,
            handed_us: None,
            done_lease: None,
        }
    }
}
