//! The agent's side of the wire contract: the fields of a test it reads
//! and the calls that start and complete a run. One file, so the agent's
//! code does not care where the API keeps them.

use super::exec::Report;
use crate::client::{AssignmentStatus, Client, ClientError};
use crate::service::api::{LeaseAck, TestRequest};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    TimedOut,
    Cancelled,
}

/// The test's own argv, if it carries one.
pub fn command(_q: &TestRequest) -> Option<&[String]> {
    None
}

/// The test's name, if it has one.
pub fn name(_q: &TestRequest) -> Option<&str> {
    None
}

/// The test's env.
pub fn env(_q: &TestRequest) -> Vec<(String, String)> {
    Vec::new()
}

/// The test's time limit, seconds.
pub fn timeout(_q: &TestRequest) -> Option<f64> {
    None
}

pub fn start(client: &Client, lease: &str) -> Result<LeaseAck, ClientError> {
    client.update_assignment_status(lease, AssignmentStatus::Running)
}

pub fn complete(client: &Client, lease: &str, r: &Report) -> Result<LeaseAck, ClientError> {
    let status = if r.outcome == Outcome::Passed {
        AssignmentStatus::Completed {
            run_time_s: r.run_time_s,
            result: None,
        }
    } else {
        AssignmentStatus::Failed {
            run_time_s: r.run_time_s,
            result: None,
        }
    };
    client.update_assignment_status(lease, status)
}
