//! Tests that carry real work: labels (interned to bits the balancer's fit
//! check tests), learned durations, run reports (exit code, log tail),
//! retries of failed runs, and cancellation.

use super::{CallError, CallResult, Core, Run};
use crate::api::{
    Completion, LeaseAck, RunOutcome, TestRequest, TestState, TestView, DEFAULT_EXPECTED_DURATION_S,
};
use crate::balancer::model::{Backends, TestId, TestSpec};
use crate::sim::SimTime;
use crate::store::Op;
use crate::workload::trace::recording::Fact;
use std::collections::VecDeque;

/// Why a test or worker with a label never seen before is refused once the
/// balancer's label bits are all in use.
pub(super) const TOO_MANY_LABELS: &str =
    "labels: the coordinator already tells 56 distinct labels apart (the most it can)";

/// Successful run times kept per test name for learned durations.
pub(super) const LEARNED_RUNS: usize = 20;

/// The median of measured run times (seconds), if there are any.
pub(super) fn median(runs: &VecDeque<f64>) -> Option<f64> {
    let mut v: Vec<f64> = runs.iter().copied().collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

impl Core {
    /// The bits of these labels, interning new ones; `None` once the
    /// balancer's label bits are all taken by other labels.
    pub(super) fn label_bits(&mut self, labels: &[String]) -> Option<Backends> {
        let mut bits = Backends::default();
        for l in labels {
            let i = match self.labels.get_index_of(l.as_str()) {
                Some(i) => i,
                None if self.labels.len() < Backends::MAX_LABELS => {
                    self.labels.insert(l.clone());
                    self.labels.len() - 1
                }
                None => return None,
            };
            bits = bits.union(Backends::label(i));
        }
        Some(bits)
    }

    /// A request's spec with its labels as bits, or why it has none.
    pub(super) fn labelled_spec(
        &mut self,
        r: &TestRequest,
    ) -> Result<TestSpec, (TestSpec, String)> {
        let mut spec = self.spec_of(r);
        if r.labels.is_empty() {
            return Ok(spec);
        }
        match self.label_bits(&r.labels) {
            Some(bits) => {
                spec.backend = Some(spec.backend.unwrap_or_default().union(bits));
                Ok(spec)
            }
            None => Err((spec, TOO_MANY_LABELS.to_string())),
        }
    }

    /// Fills in `expected_duration_s` when the request left it out: the
    /// median of the last measured successful runs of its name, else 60 s.
    pub(super) fn fill_duration(&self, r: &mut TestRequest) {
        if r.expected_duration_s.is_some() {
            return;
        }
        let learned = r
            .name
            .as_ref()
            .and_then(|n| self.durations.get(n))
            .and_then(median);
        r.expected_duration_s = Some(learned.unwrap_or(DEFAULT_EXPECTED_DURATION_S));
    }

    /// Keeps a successful run's time for its name's learned duration.
    pub(super) fn learn(&mut self, name: Option<&str>, run_time_s: f64) {
        let Some(name) = name else { return };
        let runs = self.durations.entry(name.to_string()).or_default();
        if runs.len() == LEARNED_RUNS {
            runs.pop_front();
        }
        runs.push_back(run_time_s);
    }

    /// Keeps what the worker measured of the current run.
    fn note_report(&mut self, test: u64, c: &Completion) {
        let t = self.test_mut(test);
        let attempt = t.attempts;
        if let Some(run) = t.runs.iter_mut().rev().find(|r| r.attempt == attempt) {
            run.run_time_s = Some(c.run_time_s);
            run.exit_code = c.exit_code;
        }
        t.exit_code = c.exit_code;
        if c.log_tail.is_some() {
            t.log_tail = c.log_tail.clone();
        }
        self.out.ops.push(Op::RunReported {
            test,
            attempt,
            run_time_s: c.run_time_s,
            exit_code: c.exit_code,
            log_tail: c.log_tail.clone(),
        });
    }

    /// Failed or timed-out runs so far.
    fn failures(runs: &[Run]) -> u32 {
        runs.iter()
            .filter(|r| matches!(r.outcome, Some("failed" | "timed_out")))
            .count() as u32
    }

    /// The report of a run that ended: final, or pending again for a retry.
    pub(super) fn report_run(&mut self, test: u64, c: &Completion, now: u64) -> TestState {
        self.note_report(test, c);
        let outcome = c.run_outcome();
        let t = &self.tests[test as usize - 1];
        let attempt = t.attempts;
        let retry = matches!(outcome, RunOutcome::Failed | RunOutcome::TimedOut)
            && Self::failures(&t.runs) < t.request.max_retries;
        let fact = Fact::Complete {
            test,
            attempt,
            success: outcome == RunOutcome::Passed,
            run_time_s: c.run_time_s,
            outcome: Some(outcome.as_str().to_string()),
            retried: retry,
        };
        if retry {
            self.retry_run(test, outcome, now);
            self.fact(now, fact);
            return TestState::Pending;
        }
        let state = match outcome {
            RunOutcome::Passed => TestState::Completed,
            RunOutcome::Failed => TestState::Failed,
            RunOutcome::TimedOut => TestState::TimedOut,
            RunOutcome::Cancelled => TestState::Cancelled,
        };
        self.balancer
            .finish(TestId(test), SimTime(now), outcome == RunOutcome::Passed);
        if outcome == RunOutcome::Passed {
            let name = t.request.name.clone();
            self.learn(name.as_deref(), c.run_time_s);
        }
        let result = c.result.as_ref().map(|v| v.to_string());
        let reason = match outcome {
            RunOutcome::Passed => None,
            RunOutcome::Failed => Some("the worker reported a failed run".to_string()),
            RunOutcome::TimedOut => Some("the run passed its timeout_s".to_string()),
            RunOutcome::Cancelled => Some("the worker cancelled the run".to_string()),
        };
        self.finish_test(test, now, state, Some(c.run_time_s), result, reason);
        self.fact(now, fact);
        state
    }

    /// A failed run with retries left: the test is pending again.
    fn retry_run(&mut self, test: u64, outcome: RunOutcome, now: u64) {
        self.balancer.retry(TestId(test), SimTime(now));
        let t = &self.tests[test as usize - 1];
        let (lease, worker) = (t.lease.clone(), t.worker);
        let run_outcome = if outcome == RunOutcome::TimedOut {
            "timed_out"
        } else {
            "failed"
        };
        self.end_run(test, now, run_outcome);
        // A retried report of this run gets the same answer, not a conflict.
        self.test_mut(test).done_lease = lease.clone();
        // The worker reported this run: it holds nothing to drop.
        if let (Some(lease), Some(w)) = (lease, worker) {
            self.worker_mut(w).cancel.retain(|l| *l != lease);
        }
    }

    /// A report through the lease of a cancelled test: the run's end with
    /// outcome `cancelled` is kept (once); any other is a conflict.
    pub(super) fn report_cancelled(
        &mut self,
        lease: &str,
        test: u64,
        c: &Completion,
    ) -> CallResult<LeaseAck> {
        if c.run_outcome() != RunOutcome::Cancelled {
            return Err(CallError::conflict(format!(
                "lease {lease}: test cancelled"
            )));
        }
        let t = &self.tests[test as usize - 1];
        let reported = t.runs.last().is_some_and(|r| r.run_time_s.is_some());
        if !reported {
            self.note_report(test, c);
        }
        Ok(LeaseAck::new(test, TestState::Cancelled))
    }

    /// `POST /v1/tests/{id}/cancel`: a waiting test is cancelled at once; a
    /// leased one too, and its worker is told to stop the run (the lease
    /// goes into its next heartbeat's `cancel`; its lease calls get 409).
    pub fn cancel(&mut self, id: u64, now: u64) -> CallResult<TestView> {
        let t = self
            .test(id)
            .ok_or_else(|| CallError::not_found(format!("test {id}")))?;
        if t.state.is_final() {
            return Err(CallError::conflict(format!(
                "test {id} is {} already",
                t.state.as_str()
            )));
        }
        let (state, lease, worker) = (t.state, t.lease.clone(), t.worker);
        let bw = worker.and_then(|w| self.worker(w)).and_then(|w| w.balancer);
        if state == TestState::Pending {
            self.balancer.withdraw(TestId(id));
        } else {
            // Not the worker's doing: booked as a success for its history.
            self.balancer.finish(TestId(id), SimTime(now), true);
            if let (Some(lease), Some(w)) = (lease, worker) {
                let w = self.worker_mut(w);
                w.inbox.retain(|&q| q != id);
                w.cancel.push(lease);
            }
        }
        let why = Some(format!("cancelled by POST /v1/tests/{id}/cancel"));
        self.finish_test(id, now, TestState::Cancelled, None, None, why);
        self.fact(now, Fact::Cancel { test: id });
        if let Some(bw) = bw {
            self.check_drained(bw, now);
        }
        self.schedule(now);
        self.get_test(id)
    }

    /// `GET /v1/tests/{id}/log`: the last reported log tail.
    pub fn log_tail(&self, id: u64) -> CallResult<String> {
        let t = self
            .test(id)
            .ok_or_else(|| CallError::not_found(format!("test {id}")))?;
        t.log_tail
            .clone()
            .ok_or_else(|| CallError::not_found(format!("log of test {id} (no run reported one)")))
    }
}

#[cfg(test)]
mod tests {
    use super::median;
    use std::collections::VecDeque;

    #[test]
    fn the_median_of_an_odd_and_an_even_count() {
        assert_eq!(median(&VecDeque::new()), None);
        assert_eq!(median(&VecDeque::from(vec![9.0, 1.0, 5.0])), Some(5.0));
        assert_eq!(median(&VecDeque::from(vec![4.0, 1.0, 2.0, 8.0])), Some(3.0));
    }
}
