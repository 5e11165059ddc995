//! Leases: an assignment is (test, attempt, lease id, expiry). The id is
//! `L<test>.<attempt>.<32 hex digits from a CSPRNG>`: the prefix finds the
//! test, the random part proves the caller was handed the lease. Only the
//! current lease of a test may start or complete it; any other gets 409
//! and changes nothing.

use super::{CallError, CallResult, Core, Run};
use crate::api::{Completion, Lease, LeaseAck, TestState, WorkerStatusView};
use crate::balancer::model::{TestId, WorkerId};
use crate::store::Op;
use crate::workload::trace::recording::Fact;
use rand_core::Rng;

impl Core {
    fn new_lease_id(&mut self, test: u64, attempt: u32) -> String {
        let mut secret = [0u8; 16];
        self.lease_rng.fill_bytes(&mut secret);
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        format!("L{test}.{attempt}.{hex}")
    }

    /// The balancer placed `test` on balancer worker `bw`: a new lease,
    /// queued for the worker's next lease call.
    pub(super) fn assigned(&mut self, test: u64, bw: WorkerId, now: u64) {
        let worker = self.by_balancer[bw.0 as usize];
        let seq = self.next_seq();
        let attempt = self.test_mut(test).attempts + 1;
        let lease = self.new_lease_id(test, attempt);
        let t = self.test_mut(test);
        t.attempts = attempt;
        t.worker = Some(worker);
        t.lease = Some(lease.clone());
        t.started_us = None;
        t.assign_seq = seq;
        t.handed_us = None;
        let first = t.first_assigned_us.is_none();
        t.first_assigned_us.get_or_insert(now);
        t.runs.push(Run {
            attempt,
            worker,
            assigned_us: now,
            started_us: None,
            ended_us: None,
            outcome: None,
            run_time_s: None,
            exit_code: None,
        });
        let latency = now - t.submitted_us;
        self.set_state(test, TestState::Assigned);
        if first {
            self.recent.push_back((now, latency));
            self.note_latency(latency);
        }
        self.totals.assigned += 1;
        let w = self.worker_mut(worker);
        w.inbox.push_back(test);
        w.assignments += 1;
        self.out.wake.push(worker);
        self.out.ops.push(Op::Assigned {
            test,
            attempt,
            worker,
            lease,
            at: now,
        });
        self.fact(
            now,
            Fact::Assign {
                test,
                worker,
                attempt,
            },
        );
    }

    /// The test's current run ended without ending the test: it is pending
    /// again (the balancer already requeued it) and its lease is void.
    pub(super) fn end_run(&mut self, test: u64, now: u64, outcome: &'static str) {
        let counts = outcome == "lost";
        let t = self.test_mut(test);
        let attempt = t.attempts;
        if counts {
            t.losses += 1;
        }
        let losses = t.losses;
        let old = t.lease.take();
        let worker = t.worker.take();
        t.started_us = None;
        t.handed_us = None;
        if let Some(run) = t.runs.last_mut() {
            run.ended_us = Some(now);
            run.outcome = Some(outcome);
        }
        self.set_state(test, TestState::Pending);
        if counts {
            self.totals.lost += 1;
        }
        if let (Some(lease), Some(w)) = (old, worker) {
            let w = self.worker_mut(w);
            if w.status != WorkerStatusView::Offline {
                w.inbox.retain(|&q| q != test);
                w.cancel.push(lease);
            }
        }
        self.out.ops.push(Op::RunEnded {
            test,
            attempt,
            at: now,
            outcome,
            losses,
        });
    }

    /// The test is final.
    pub(super) fn finish_test(
        &mut self,
        test: u64,
        now: u64,
        state: TestState,
        run_time_s: Option<f64>,
        result: Option<String>,
        reason: Option<String>,
    ) {
        let t = self.test_mut(test);
        let attempt = t.attempts;
        // Reported through its lease: a retried report of it is answered
        // with this outcome rather than a conflict.
        t.done_lease = t.lease.take();
        t.handed_us = None;
        let lease = t.done_lease.clone();
        t.finished_us = Some(now);
        t.run_time_s = run_time_s;
        t.result = result.clone();
        t.reason = reason.clone();
        if let Some(run) = t.runs.last_mut().filter(|r| r.outcome.is_none()) {
            run.ended_us = Some(now);
            run.outcome = Some(state.as_str());
        }
        self.set_state(test, state);
        match state {
            TestState::Completed => {
                self.totals.completed += 1;
                self.recent_completions.push_back(now);
            }
            // Nobody's failure.
            TestState::Cancelled => {}
            _ => self.totals.failed += 1,
        }
        self.out.ops.push(Op::Finished {
            test,
            attempt,
            state: state.as_str(),
            at: now,
            run_time_s,
            result,
            reason,
            lease,
        });
    }

    /// The test a lease names, if the lease is its current one (`worker`,
    /// when given, must hold it), and whether that lease already finished
    /// it (a retried report). A lease id that was never issued is 404.
    fn current_lease(&self, lease: &str, worker: Option<u64>) -> CallResult<(u64, bool)> {
        let unknown = || CallError::not_found(format!("lease {lease}"));
        let (test, attempt) = parse_lease(lease).ok_or_else(unknown)?;
        let t = self.test(test).ok_or_else(unknown)?;
        if attempt == 0 || attempt > t.attempts {
            return Err(unknown());
        }
        let same = |held: &Option<String>| {
            let held = held.as_deref().unwrap_or("");
            crate::auth::same_secret(held.as_bytes(), lease.as_bytes())
        };
        // The lease that finished the test, or whose failed run was retried.
        if same(&t.done_lease) {
            return Ok((test, true));
        }
        if !same(&t.lease) {
            return Err(CallError::conflict(format!(
                "lease {lease} is not current (test {test} is {}, attempt {})",
                t.state.as_str(),
                t.attempts
            )));
        }
        if let Some(w) = worker.filter(|w| Some(*w) != t.worker) {
            return Err(CallError::conflict(format!(
                "lease {lease} is not held by worker {w}"
            )));
        }
        Ok((test, false))
    }

    /// Whether `lease` is the current lease of a test `worker` holds.
    fn is_current_on(&self, lease: &str, worker: u64) -> bool {
        self.current_lease(lease, Some(worker))
            .is_ok_and(|(_, done)| !done)
    }

    /// Squares the leases a worker lists with the ones the server thinks
    /// it holds. A run it no longer lists, though its lease was handed out
    /// before the worker's previous heartbeat (`since`), goes back to
    /// pending as a recorded loss; a listed lease that is not current on
    /// this worker is returned, for the worker to drop.
    pub(super) fn reconcile_leases(
        &mut self,
        worker: u64,
        listed: &[String],
        since: u64,
        now: u64,
    ) -> Vec<String> {
        let drop: Vec<String> = listed
            .iter()
            .filter(|l| !self.is_current_on(l, worker))
            .cloned()
            .collect();
        let Some(bw) = self.worker(worker).and_then(|w| w.balancer) else {
            return drop;
        };
        let listed: std::collections::BTreeSet<&str> = listed.iter().map(String::as_str).collect();
        let gone: Vec<TestId> = self
            .balancer
            .worker(bw)
            .running
            .iter()
            .copied()
            .filter(|t| {
                let e = &self.tests[t.0 as usize - 1];
                e.handed_us.is_some_and(|h| h < since)
                    && !e.lease.as_deref().is_some_and(|l| listed.contains(l))
            })
            .collect();
        for t in gone {
            tracing::warn!(
                test = t.0,
                worker,
                "its worker no longer holds the lease: requeued"
            );
            self.lose_run(t, now, "its worker no longer held the lease", "lost");
        }
        if let Some(bw) = self.worker(worker).and_then(|w| w.balancer) {
            self.check_drained(bw, now);
        }
        self.schedule(now);
        drop
    }

    /// The next assignment for a worker, if one is waiting, with the batch
    /// that must be committed before it is handed out.
    pub(crate) fn next_lease(&mut self, worker: u64, now: u64) -> CallResult<Option<(Lease, u64)>> {
        self.live_worker(worker)?;
        if self.cfg.plain_queue && self.worker_mut(worker).inbox.is_empty() {
            self.pull(worker, now);
        }
        let expires_us = self.worker_mut(worker).last_heartbeat_us + self.cfg.heartbeat_timeout_us;
        while let Some(test) = self.worker_mut(worker).inbox.pop_front() {
            let t = &self.tests[test as usize - 1];
            let (Some(lease), TestState::Assigned) = (&t.lease, t.state) else {
                continue;
            };
            if t.worker != Some(worker) {
                continue;
            }
            let answer = Lease {
                lease_id: lease.clone(),
                test_id: test,
                attempt: t.attempts,
                requirements: t.request.clone(),
                expires_at: (self.epoch_unix_us + expires_us) as f64 / 1e6,
            };
            let seq = t.assign_seq;
            self.test_mut(test).handed_us = Some(now);
            return Ok(Some((answer, seq)));
        }
        Ok(None)
    }

    /// The worker started the run (idempotent).
    pub fn start(&mut self, lease: &str, worker: Option<u64>, now: u64) -> CallResult<LeaseAck> {
        let (test, done) = self.current_lease(lease, worker)?;
        if done && self.tests[test as usize - 1].state == TestState::Cancelled {
            return Err(CallError::conflict(format!(
                "lease {lease}: test cancelled"
            )));
        }
        if done {
            return Ok(LeaseAck::new(test, self.tests[test as usize - 1].state));
        }
        if self.tests[test as usize - 1].state == TestState::Assigned {
            let t = self.test_mut(test);
            t.started_us = Some(now);
            let attempt = t.attempts;
            if let Some(run) = t.runs.last_mut() {
                run.started_us = Some(now);
            }
            self.set_state(test, TestState::Running);
            self.out.ops.push(Op::Started {
                test,
                attempt,
                at: now,
            });
            self.fact(now, Fact::Start { test, attempt });
        }
        Ok(LeaseAck::new(test, self.tests[test as usize - 1].state))
    }

    /// The run ended: the test is final (completed or failed).
    pub fn complete(&mut self, lease: &str, c: Completion, now: u64) -> CallResult<LeaseAck> {
        c.validate()
            .map_err(|(field, msg)| CallError::new(400, format!("{field}: {msg}")))?;
        let (test, done) = self.current_lease(lease, c.worker_id)?;
        let t = &self.tests[test as usize - 1];
        if done && t.state == TestState::Cancelled {
            return self.report_cancelled(lease, test, &c);
        }
        if done {
            // A retried report (its answer was lost): the same answer.
            return Ok(LeaseAck::new(test, t.state));
        }
        let bw = t
            .worker
            .and_then(|w| self.worker(w))
            .and_then(|w| w.balancer);
        let state = self.report_run(test, &c, now);
        if let Some(bw) = bw {
            self.check_drained(bw, now);
        }
        self.schedule(now);
        Ok(LeaseAck::new(test, state))
    }

    /// The run ended, and the worker asked (`next`) for its next lease in
    /// the answer: the same report as `complete`, then the lease its
    /// `worker_id` would get from a lease call now (the freed slot may
    /// have just been filled), with the batch that must be committed
    /// before it is handed out (0: none). A retried report may hand one
    /// too: a lease whose answer was lost is reconciled as any other.
    pub fn complete_then_next(
        &mut self,
        lease: &str,
        c: Completion,
        now: u64,
    ) -> CallResult<(LeaseAck, u64)> {
        let worker = c.worker_id.filter(|_| c.next);
        let mut ack = self.complete(lease, c, now)?;
        let Some(worker) = worker else {
            return Ok((ack, 0));
        };
        // A worker that cannot take one now (offline) learns that from its
        // own lease call; the report stands either way.
        match self.next_lease(worker, now) {
            Ok(Some((next, seq))) => {
                ack.next = Some(next);
                Ok((ack, seq))
            }
            Ok(None) | Err(_) => Ok((ack, 0)),
        }
    }
}

/// `(test, attempt)` from a lease id, if it has the right shape.
fn parse_lease(lease: &str) -> Option<(u64, u32)> {
    let mut parts = lease.strip_prefix('L')?.splitn(3, '.');
    let test = parts.next()?.parse().ok()?;
    let attempt = parts.next()?.parse().ok()?;
    let secret = parts.next()?;
    (secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((test, attempt))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lease_ids_parse_only_in_their_own_shape() {
        let ok = format!("L12.3.{}", "a".repeat(32));
        assert_eq!(super::parse_lease(&ok), Some((12, 3)));
        assert_eq!(super::parse_lease("L12.3.abc"), None);
        assert_eq!(super::parse_lease("12.3"), None);
        assert_eq!(
            super::parse_lease(&format!("Lx.3.{}", "a".repeat(32))),
            None
        );
    }
}
