//! A blocking client of the coordinator (`lbsim serve`), with the
//! reference's verbs. `lbsim worker` and `lbsim load` use it. The wire
//! types it shares with the service live here too ([`api`]), so a client
//! needs neither the server nor its runtime.
//!
//! ```no_run
//! use lbsim_client::{AssignmentStatus, Client};
//! use lbsim_client::api::{Heartbeat, TestRequest, WorkerRegistration};
//!
//! let client = Client::new("http://127.0.0.1:8080", None);
//! let me = client.register_worker(&WorkerRegistration {
//!     memory_gb: 16.0, cpu_cores: 4, cuda_devices: 0, backends: None, name: Some("w1".into()),
//!     labels: vec![],
//! })?;
//! client.submit_test(&TestRequest { priority: 1, ..TestRequest::default() })?;
//! if let Some(lease) = client.get_next_assignment(me.worker_id, 5.0)? {
//!     client.update_assignment_status(&lease.lease_id, AssignmentStatus::Running)?;
//!     client.update_worker_load(me.worker_id, &Heartbeat { cpu: 30.0, ..Heartbeat::default() })?;
//!     let done = AssignmentStatus::Completed { run_time_s: 1.5, result: None };
//!     client.update_assignment_status(&lease.lease_id, done)?;
//! }
//! # Ok::<(), lbsim_client::ClientError>(())
//! ```

#![warn(unreachable_pub)]

pub mod api;
pub mod json;

use crate::api::{
    Completion, ErrorBody, Heartbeat, HeartbeatReply, Lease, LeaseAck, Registered, Submitted,
    TestBatch, TestList, TestRequest, TestState, TestView, WorkerList, WorkerRegistration,
    WorkerView,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or its answer could not be read.
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    /// The server answered with an error status.
    #[error("{url}: {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            ClientError::Transport { .. } => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// The new state of an assignment (`update_assignment_status`).
#[derive(Clone, Debug, PartialEq)]
pub enum AssignmentStatus {
    Running,
    Completed {
        run_time_s: f64,
        result: Option<serde_json::Value>,
    },
    Failed {
        run_time_s: f64,
        result: Option<serde_json::Value>,
    },
    /// A full report: outcome, exit code, log tail (`--exec` agents).
    Done(Completion),
}

/// A connection pool to one coordinator.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
    /// How long a run's report is sent again while the server is away.
    report_retry: Duration,
}

impl Client {
    /// `url` is the server's base (`http://HOST:PORT`); `token` its bearer token.
    pub fn new(url: &str, token: Option<String>) -> Client {
        // Timeouts per phase, never global or per call: with either set,
        // ureq resolves the host on a new thread for every request (so it
        // can give up on a slow DNS lookup), even for an IP literal on a
        // pooled connection. 64 fake workers then created thousands of
        // threads a second, and the mmap lock they contend for put tens of
        // milliseconds on the tail of every call. Without a resolve timeout
        // it resolves on the calling thread; a long-poll waits at most 30 s
        // for its answer, within `recv_response`.
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_send_request(Some(Duration::from_secs(30)))
            .timeout_send_body(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(90)))
            .timeout_recv_body(Some(Duration::from_secs(90)))
            .max_idle_connections(1024)
            .max_idle_connections_per_host(1024)
            .build();
        Client {
            agent: config.into(),
            base: url.trim_end_matches('/').to_string(),
            token,
            report_retry: REPORT_RETRY,
        }
    }

    /// Sets how long a run's report is retried while the server is
    /// unreachable or answers 503 (default `REPORT_RETRY_S`; zero: never).
    pub fn with_report_retry(mut self, window: Duration) -> Client {
        self.report_retry = window;
        self
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<Option<T>> {
        let url = format!("{}{path}", self.base);
        let transport = |e: ureq::Error| ClientError::Transport {
            url: url.clone(),
            message: e.to_string(),
        };
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut response = match (method, body) {
            ("GET", _) => with_auth(self.agent.get(&url), auth).call(),
            ("DELETE", _) => with_auth(self.agent.delete(&url), auth).call(),
            (_, Some(b)) => with_auth(self.agent.post(&url), auth).send_json(b),
            (_, None) => with_auth(self.agent.post(&url), auth).send_empty(),
        }
        .map_err(transport)?;
        let status = response.status().as_u16();
        if status == 204 {
            return Ok(None);
        }
        if status >= 400 {
            let text = response.body_mut().read_to_string().unwrap_or_default();
            let message = serde_json::from_str::<ErrorBody>(&text).map_or(text, |e| e.error);
            return Err(ClientError::Status {
                url,
                status,
                message,
            });
        }
        response.body_mut().read_json().map(Some).map_err(transport)
    }

    fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.call("POST", path, Some(body))?
            .ok_or_else(|| self.empty(path))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>("GET", path, None)?
            .ok_or_else(|| self.empty(path))
    }

    fn empty(&self, path: &str) -> ClientError {
        ClientError::Transport {
            url: format!("{}{path}", self.base),
            message: "empty answer".into(),
        }
    }

    pub fn register_worker(&self, r: &WorkerRegistration) -> Result<Registered> {
        self.post("/v1/workers", r)
    }

    /// Heartbeat with the measured load; the answer sets the pace.
    pub fn update_worker_load(&self, worker: u64, load: &Heartbeat) -> Result<HeartbeatReply> {
        self.post(&format!("/v1/workers/{worker}/heartbeat"), load)
    }

    pub fn submit_test(&self, t: &TestRequest) -> Result<u64> {
        let s: Submitted = self.post("/v1/tests", t)?;
        s.test_ids
            .first()
            .copied()
            .ok_or_else(|| self.empty("/v1/tests"))
    }

    pub fn submit_tests(&self, tests: Vec<TestRequest>) -> Result<Submitted> {
        self.post("/v1/tests", &TestBatch { tests })
    }

    /// Waits up to `wait_s` (at most 30) for the worker's next assignment.
    pub fn get_next_assignment(&self, worker: u64, wait_s: f64) -> Result<Option<Lease>> {
        self.call::<(), Lease>(
            "POST",
            &format!("/v1/workers/{worker}/lease?wait_s={wait_s}"),
            None,
        )
    }

    /// The tests assigned to or running on a worker.
    pub fn get_assignments(&self, worker: u64) -> Result<Vec<u64>> {
        Ok(self.get_worker(worker)?.tests)
    }

    /// Reports a run's start or end. Both are idempotent per lease, so a
    /// report the server may not have received (it was down, or answered
    /// 503) is sent again with backoff, for up to `REPORT_RETRY_S`; a
    /// conflict (the lease is no longer current) is final.
    pub fn update_assignment_status(
        &self,
        lease: &str,
        status: AssignmentStatus,
    ) -> Result<LeaseAck> {
        let mut pause = Duration::from_millis(50);
        let mut waited = Duration::ZERO;
        loop {
            match self.report(lease, status.clone()) {
                Err(e) if is_transient(&e) && waited < self.report_retry => {
                    std::thread::sleep(pause);
                    waited += pause;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }

    fn report(&self, lease: &str, status: AssignmentStatus) -> Result<LeaseAck> {
        let (success, run_time_s, result) = match status {
            AssignmentStatus::Running => {
                return self.post(&format!("/v1/leases/{lease}/start"), &serde_json::json!({}))
            }
            AssignmentStatus::Completed { run_time_s, result } => (true, run_time_s, result),
            AssignmentStatus::Failed { run_time_s, result } => (false, run_time_s, result),
            AssignmentStatus::Done(c) => {
                return self.post(&format!("/v1/leases/{lease}/complete"), &c)
            }
        };
        let c = Completion {
            result,
            ..Completion::new(success, run_time_s)
        };
        self.post(&format!("/v1/leases/{lease}/complete"), &c)
    }

    /// Reports a run's end with its outcome, exit code and log tail (sent
    /// again while the server is away, as `update_assignment_status`).
    pub fn complete_lease(&self, lease: &str, c: &Completion) -> Result<LeaseAck> {
        self.update_assignment_status(lease, AssignmentStatus::Done(c.clone()))
    }

    /// Cancels a test: a pending one at once, a running one when its
    /// worker learns it (next heartbeat or lease call). 409 when final.
    pub fn cancel_test(&self, id: u64) -> Result<TestView> {
        self.post(&format!("/v1/tests/{id}/cancel"), &serde_json::json!({}))
    }

    /// The last 64 KiB of the test's last reported run log (404 when none).
    pub fn test_log(&self, id: u64) -> Result<String> {
        let url = format!("{}/v1/tests/{id}/log", self.base);
        let transport = |e: ureq::Error| ClientError::Transport {
            url: url.clone(),
            message: e.to_string(),
        };
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut response = with_auth(self.agent.get(&url), auth)
            .call()
            .map_err(transport)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(transport)?;
        if status >= 400 {
            let message = serde_json::from_str::<ErrorBody>(&text).map_or(text, |e| e.error);
            return Err(ClientError::Status {
                url,
                status,
                message,
            });
        }
        Ok(text)
    }

    pub fn drain_worker(&self, worker: u64) -> Result<serde_json::Value> {
        self.post(
            &format!("/v1/workers/{worker}/drain"),
            &serde_json::json!({}),
        )
    }

    /// Leaves at once; the worker's runs are requeued.
    pub fn unregister_worker(&self, worker: u64) -> Result<serde_json::Value> {
        self.call::<(), _>("DELETE", &format!("/v1/workers/{worker}"), None)?
            .ok_or_else(|| self.empty("/v1/workers"))
    }

    pub fn get_test(&self, id: u64) -> Result<TestView> {
        self.get(&format!("/v1/tests/{id}"))
    }

    /// One page of tests (ids after `after`).
    pub fn list_tests(
        &self,
        state: Option<TestState>,
        after: u64,
        limit: usize,
    ) -> Result<TestList> {
        let state = state.map_or(String::new(), |s| format!("&state={}", s.as_str()));
        self.get(&format!("/v1/tests?after={after}&limit={limit}{state}"))
    }

    /// Every test with an id after `after`, page by page.
    pub fn all_tests(&self, after: u64) -> Result<Vec<TestView>> {
        let mut out = Vec::new();
        let mut next = Some(after);
        while let Some(after) = next {
            let page = self.list_tests(None, after, crate::api::MAX_LIST)?;
            out.extend(page.tests);
            next = page.next_after;
        }
        Ok(out)
    }

    pub fn get_worker(&self, id: u64) -> Result<WorkerView> {
        self.get(&format!("/v1/workers/{id}"))
    }

    pub fn list_workers(&self) -> Result<WorkerList> {
        self.get("/v1/workers")
    }

    /// `/v1/status` as JSON.
    pub fn status(&self) -> Result<serde_json::Value> {
        self.get("/v1/status")
    }
}

/// How long a run's report is retried across a server restart.
pub const REPORT_RETRY_S: u64 = 120;
const REPORT_RETRY: Duration = Duration::from_secs(REPORT_RETRY_S);

/// Worth sending again: the server was unreachable or could not save.
fn is_transient(e: &ClientError) -> bool {
    match e.status() {
        None => true,
        Some(s) => s == 502 || s == 503 || s == 504,
    }
}

fn with_auth<B>(req: ureq::RequestBuilder<B>, auth: Option<String>) -> ureq::RequestBuilder<B> {
    match auth {
        Some(a) => req.header("Authorization", a),
        None => req,
    }
}

#[cfg(test)]
mod tests {
    use super::Client;

    /// With a global, per-call or resolve timeout, ureq resolves the host on
    /// a new thread for every request; that put 40 ms on the lease p99 of 64
    /// fake workers. Every phase still has a bound.
    #[test]
    fn no_timeout_makes_ureq_resolve_on_a_thread_per_request() {
        let t = Client::new("http://127.0.0.1:1", None)
            .agent
            .config()
            .timeouts();
        assert_eq!((t.global, t.per_call, t.resolve), (None, None, None));
        for phase in [
            t.connect,
            t.send_request,
            t.send_body,
            t.recv_response,
            t.recv_body,
        ] {
            assert!(phase.is_some_and(|d| d.as_secs() >= 10), "{t:?}");
        }
    }
}
