//! What the balancer reports: one row per decision, one per finished test.

use super::model::{Outcome, TestId, TestSpec, WorkerId};
use super::LiveTest;
use crate::sim::{SimDuration, SimTime};

/// What a driver keeps per live test beside the balancer's own state (the
/// simulator's: the seed of the test's draws, a replayed run, its runs and
/// failures so far). The balancer stores it in its record of the test and
/// never reads it, so a live test is one record, not an entry in each of
/// two maps kept in step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    /// Seeds the test's per-attempt draws.
    pub seed: u64,
    /// A replayed run: its recorded time and whether it passed (instead of
    /// draws).
    pub exact: Option<(SimDuration, bool)>,
    /// Runs started so far.
    pub runs: u32,
    /// Runs failed so far.
    pub failures: u32,
}

/// One scheduling decision (a row of the decision log).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assignment {
    /// When the decision was made.
    pub time: SimTime,
    /// The test placed.
    pub test: TestId,
    /// The worker it went to.
    pub worker: WorkerId,
    /// The policy's score for that worker (its meaning is the policy's).
    pub score: f64,
    /// Workers the policy examined to decide (its real cost).
    pub candidates: u32,
    /// Attempts so far, this successful one included.
    pub attempt: u32,
    /// The test's assignment counter (to recognise stale completions).
    pub epoch: u32,
}

/// The final state of one test (a row of the per-test CSV).
#[derive(Clone, Debug, PartialEq)]
pub struct TestRecord {
    /// The test's id.
    pub id: TestId,
    /// Its priority, 1 (most urgent) to 5.
    pub priority: u8,
    /// Memory it needed, MiB.
    pub memory_mib: u64,
    /// CUDA devices it needed.
    pub cuda_devices: u32,
    /// When it was submitted.
    pub submitted_at: SimTime,
    /// First assignment (scheduling latency is measured to it).
    pub assigned_at: Option<SimTime>,
    /// Start of the last run.
    pub started_at: Option<SimTime>,
    /// When it became final (`None` while pending or running at the horizon).
    pub finished_at: Option<SimTime>,
    /// The worker of its last assignment (`None` if never assigned).
    pub worker: Option<WorkerId>,
    /// Attempts it had (0 if it never ran).
    pub attempts: u32,
    /// Times it went back to pending (worker lost, or a retry).
    pub requeues: u32,
    /// Total time spent pending, microseconds.
    pub waited_us: u64,
    /// Its expected run time, microseconds.
    pub expected_us: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it was rejected (`None` for every other outcome).
    pub reason: Option<&'static str>,
}

impl TestRecord {
    pub(super) fn rejected(
        id: TestId,
        spec: &TestSpec,
        now: SimTime,
        reason: &'static str,
    ) -> TestRecord {
        TestRecord {
            id,
            priority: spec.priority,
            memory_mib: spec.memory_mib,
            cuda_devices: spec.cuda_devices,
            submitted_at: now,
            assigned_at: None,
            started_at: None,
            finished_at: Some(now),
            worker: None,
            attempts: 0,
            requeues: 0,
            waited_us: 0,
            expected_us: spec.expected_duration.0,
            outcome: Outcome::Rejected,
            reason: Some(reason),
        }
    }

    pub(super) fn from_live(
        id: TestId,
        t: &LiveTest,
        worker: Option<WorkerId>,
        now: SimTime,
        outcome: Outcome,
    ) -> TestRecord {
        let still_pending = outcome == Outcome::Pending;
        let waited = t.waited.0
            + if still_pending {
                (now - t.pending_since).0
            } else {
                0
            };
        let is_final = matches!(outcome, Outcome::Completed | Outcome::Failed);
        TestRecord {
            id,
            priority: t.spec.priority,
            memory_mib: t.spec.memory_mib,
            cuda_devices: t.spec.cuda_devices,
            submitted_at: t.submitted_at,
            assigned_at: t.first_assigned_at,
            started_at: if still_pending { None } else { t.started_at },
            finished_at: is_final.then_some(now),
            worker,
            attempts: t.attempts,
            requeues: t.requeues,
            waited_us: waited,
            expected_us: t.spec.expected_duration.0,
            outcome,
            reason: None,
        }
    }

    /// Scheduling latency (first assignment − submission), seconds.
    pub(crate) fn latency_s(&self) -> Option<f64> {
        self.assigned_at
            .map(|a| (a - self.submitted_at).as_secs_f64())
    }

    /// Turnaround (finish − submission), seconds.
    pub(crate) fn turnaround_s(&self) -> Option<f64> {
        self.finished_at
            .filter(|_| self.assigned_at.is_some())
            .map(|f| (f - self.submitted_at).as_secs_f64())
    }
}
