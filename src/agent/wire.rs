//! The agent's side of the wire contract: the fields of a test it reads
//! and the calls that start and complete a run. One file, so the agent's
//! code does not care where the API keeps them.

use crate::client::{AssignmentStatus, Client, ClientError};
use crate::service::api::{Completion, LeaseAck, TestRequest};

/// What a run ended as, for the coordinator.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Report {
    pub(crate) outcome: Outcome,
    pub(crate) exit_code: Option<i32>,
    pub(crate) run_time_s: f64,
    pub(crate) log_tail: String,
}

pub(crate) use crate::service::api::RunOutcome as Outcome;

/// The test's own argv, if it carries one.
pub(crate) fn command(q: &TestRequest) -> Option<&[String]> {
    q.command.as_deref().filter(|c| !c.is_empty())
}

/// The test's name, if it has one.
pub(crate) fn name(q: &TestRequest) -> Option<&str> {
    q.name.as_deref()
}

/// The test's env.
pub(crate) fn env(q: &TestRequest) -> Vec<(String, String)> {
    q.env
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The test's time limit, seconds.
pub(crate) fn timeout(q: &TestRequest) -> Option<f64> {
    q.timeout_s.filter(|t| t.is_finite() && *t > 0.0)
}

pub(crate) fn start(client: &Client, lease: &str) -> Result<LeaseAck, ClientError> {
    client.update_assignment_status(lease, AssignmentStatus::Running)
}

/// Reports a run's end; with `next_for` (the worker's id) the answer
/// hands that worker its next lease, when one is waiting.
pub(crate) fn complete(
    client: &Client,
    lease: &str,
    r: &Report,
    next_for: Option<u64>,
) -> Result<LeaseAck, ClientError> {
    let c = Completion {
        outcome: Some(r.outcome),
        exit_code: r.exit_code,
        log_tail: Some(r.log_tail.clone()),
        worker_id: next_for,
        next: next_for.is_some(),
        ..Completion::new(r.outcome == Outcome::Passed, r.run_time_s)
    };
    client.complete_lease(lease, &c)
}
