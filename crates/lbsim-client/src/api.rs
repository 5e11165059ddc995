//! The wire types of the coordinator's HTTP/JSON API (`/v1`), shared by the
//! server, the client and the OpenAPI document. Requests are checked here,
//! field by field, so a bad one is refused with the field's name.

use lbsim_core::balancer::model::{
    gb_to_mib_ceil, gb_to_mib_floor, Backends, TestSpec, WorkerSpec,
};
use lbsim_core::sim::SimDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub mod work;
pub use work::{RunOutcome, DEFAULT_EXPECTED_DURATION_S};

/// The longest a lease call may wait for work, seconds.
pub const MAX_WAIT_S: f64 = 30.0;
/// The most tests one `GET /v1/tests` returns.
pub const MAX_LIST: usize = 10_000;

/// A request field that is out of range: `(field path, what is wrong)`.
pub type FieldError = (String, String);

fn bad(field: &str, message: &str) -> FieldError {
    (field.to_string(), message.to_string())
}

/// `POST /v1/workers`: what a worker offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkerRegistration {
    /// Installed memory, GB (tests may use 90 % of it, as in the reference).
    pub memory_gb: f64,
    /// CPU cores.
    #[serde(default = "one")]
    pub cpu_cores: u32,
    /// CUDA devices.
    #[serde(default)]
    pub cuda_devices: u32,
    /// Backends it runs (`cpu`, `cuda`, `rocm`); default: `cpu`, plus `cuda` with devices.
    #[serde(default)]
    pub backends: Option<Vec<String>>,
    /// A name for logs and dashboards.
    #[serde(default)]
    pub name: Option<String>,
    /// Labels it carries (`gpu:a100`, `os=linux`): it only runs tests
    /// whose labels it all carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

fn one() -> u32 {
    1
}

/// The largest machine a worker may declare: 64 TiB of memory, 4,096
/// cores, 64 CUDA devices (beyond the largest single servers sold). A
/// registration over these is a mistake or an attack: one such worker was
/// once handed 100,000 runs.
pub const MAX_WORKER_MEMORY_GB: f64 = 65_536.0;
pub const MAX_WORKER_CORES: u32 = 4_096;
pub const MAX_WORKER_CUDA: u32 = 64;
/// The most leases one heartbeat may list.
pub const MAX_HELD_LEASES: usize = 10_000;

/// Fraction of installed memory tests may use (the reference's 0.9).
pub const USABLE_MEMORY_FRACTION: f64 = 0.9;

impl WorkerRegistration {
    /// The balancer's view of this worker, or the first bad field.
    pub fn to_spec(&self) -> Result<WorkerSpec, FieldError> {
        if !(self.memory_gb.is_finite()
            && self.memory_gb > 0.0
            && self.memory_gb <= MAX_WORKER_MEMORY_GB)
        {
            return Err(bad("memory_gb", "must be a number of GB in (0, 65536]"));
        }
        if self.cpu_cores == 0 || self.cpu_cores > MAX_WORKER_CORES {
            return Err(bad("cpu_cores", "must be 1 to 4096"));
        }
        if self.cuda_devices > MAX_WORKER_CUDA {
            return Err(bad("cuda_devices", "must be 0 to 64"));
        }
        if self.name.as_ref().is_some_and(|n| n.len() > 200) {
            return Err(bad("name", "must be at most 200 bytes"));
        }
        work::check_labels("", &self.labels)?;
        let backends = match &self.backends {
            None => Backends::for_cuda_devices(self.cuda_devices),
            Some(names) => parse_backends(names)?,
        };
        Ok(WorkerSpec {
            memory_mib: gb_to_mib_floor(self.memory_gb * USABLE_MEMORY_FRACTION),
            memory_gb: self.memory_gb,
            cpu_cores: self.cpu_cores,
            cuda_devices: self.cuda_devices,
            backends,
            speed: 1.0,
        })
    }
}

fn parse_backends(names: &[String]) -> Result<Backends, FieldError> {
    let mut set = Backends::default();
    for (i, n) in names.iter().enumerate() {
        match Backends::from_name(n) {
            Some(b) => set = set.union(b),
            None => {
                return Err((
                    format!("backends[{i}]"),
                    format!("'{n}' is not one of cpu, cuda, rocm"),
                ))
            }
        }
    }
    Ok(set)
}

/// `201` answer to a registration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Registered {
    pub worker_id: u64,
    /// Send the first heartbeat within this many seconds.
    pub heartbeat_interval_s: f64,
}

/// `POST /v1/workers/{id}/heartbeat`: measured utilisation, percent (0–100),
/// and the leases the worker holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    #[serde(default)]
    pub cpu: f64,
    #[serde(default)]
    pub memory: f64,
    #[serde(default)]
    pub gpu: f64,
    /// Every lease the worker holds (handed out and not yet reported). When
    /// given, the server requeues the worker's runs it does not list (a
    /// recorded loss) and answers, in `cancel`, the listed leases it no
    /// longer knows. Omitted: nothing is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leases: Option<Vec<String>>,
}

impl Heartbeat {
    pub fn validate(&self) -> Result<(), FieldError> {
        for (name, v) in [
            ("cpu", self.cpu),
            ("memory", self.memory),
            ("gpu", self.gpu),
        ] {
            if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
                return Err(bad(name, "must be a percentage from 0 to 100"));
            }
        }
        if let Some(leases) = &self.leases {
            if leases.len() > MAX_HELD_LEASES {
                return Err(bad("leases", "must list at most 10000 leases"));
            }
            if let Some(i) = leases.iter().position(|l| l.len() > 64) {
                return Err((format!("leases[{i}]"), "must be at most 64 bytes".into()));
            }
        }
        Ok(())
    }
}

/// The answer to a heartbeat: when to send the next, and leases to drop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatReply {
    /// The server sets the pace: the interval grows with the fleet.
    pub next_heartbeat_s: f64,
    /// Leases this worker holds that are no longer current: stop them.
    pub cancel: Vec<String>,
}

/// One test to run, with the fields of the config's test profiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// Memory needed, GB.
    #[serde(default = "half")]
    pub memory_gb: f64,
    #[serde(default)]
    pub cuda_devices: u32,
    #[serde(default = "one")]
    pub cpu_cores: u32,
    /// `cpu`, `cuda` or `rocm`; default: `cuda` when devices are asked, else any.
    #[serde(default)]
    pub backend: Option<String>,
    /// 1 (most urgent) to 5.
    #[serde(default = "three")]
    pub priority: u8,
    /// Expected run time, seconds. Omitted: the median of the last
    /// measured runs of tests with the same `name`, else 60 (the
    /// reference's default). Stored tests and leases always carry the
    /// value the balancer used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_duration_s: Option<f64>,
    /// Tests sharing a key never run at the same time.
    #[serde(default)]
    pub concurrency_key: Option<String>,
    #[serde(default)]
    pub test_type: Option<String>,
    #[serde(default)]
    pub model_family: Option<String>,
    /// What it is, for people and for learned durations
    /// (`tests/test_bert.py::test_fp16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The command to run, as an argv array (never through a shell unless
    /// it says `sh -c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Environment variables the command runs with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// Longest run time, seconds: the run is terminated and ends `timed_out`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// A failed or timed-out run is retried this many times (0 to 10).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_retries: u32,
    /// Only workers carrying every one of these labels run it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn half() -> f64 {
    0.5
}
fn three() -> u8 {
    3
}

impl Default for TestRequest {
    fn default() -> Self {
        TestRequest {
            memory_gb: half(),
            cuda_devices: 0,
            cpu_cores: 1,
            backend: None,
            priority: three(),
            expected_duration_s: None,
            concurrency_key: None,
            test_type: None,
            model_family: None,
            name: None,
            command: None,
            env: None,
            timeout_s: None,
            max_retries: 0,
            labels: Vec::new(),
        }
    }
}

impl TestRequest {
    /// Checks every field; `at` prefixes the field path (`tests[3].`).
    pub fn validate(&self, at: &str) -> Result<(), FieldError> {
        let f = |name: &str| format!("{at}{name}");
        if !(self.memory_gb.is_finite() && (0.0..=1e6).contains(&self.memory_gb)) {
            return Err((f("memory_gb"), "must be a number of GB in [0, 1e6]".into()));
        }
        if self.cuda_devices > 1024 {
            return Err((f("cuda_devices"), "must be 0 to 1024".into()));
        }
        if self.cpu_cores > 1_000_000 {
            return Err((f("cpu_cores"), "must be 0 to 1000000".into()));
        }
        if !(1..=5).contains(&self.priority) {
            return Err((f("priority"), "must be 1 to 5".into()));
        }
        if let Some(d) = self.expected_duration_s {
            if !(d.is_finite() && d > 0.0 && d <= 1e9) {
                return Err((
                    f("expected_duration_s"),
                    "must be seconds in (0, 1e9]".into(),
                ));
            }
        }
        if let Some(b) = &self.backend {
            if Backends::from_name(b).is_none() {
                return Err((f("backend"), format!("'{b}' is not one of cpu, cuda, rocm")));
            }
        }
        for (name, v) in [
            ("concurrency_key", &self.concurrency_key),
            ("test_type", &self.test_type),
            ("model_family", &self.model_family),
        ] {
            if v.as_ref().is_some_and(|s| s.len() > 200) {
                return Err((f(name), "must be at most 200 bytes".into()));
            }
        }
        self.validate_work(at)
    }

    /// Checks the fields that carry work.
    fn validate_work(&self, at: &str) -> Result<(), FieldError> {
        work::check_name(at, &self.name)?;
        work::check_command(at, &self.command)?;
        work::check_env(at, &self.env)?;
        work::check_timeout(at, self.timeout_s)?;
        work::check_retries(at, self.max_retries)?;
        work::check_labels(at, &self.labels)
    }

    /// The expected run time, seconds: as given, else the default.
    pub fn expected_duration(&self) -> f64 {
        self.expected_duration_s
            .unwrap_or(DEFAULT_EXPECTED_DURATION_S)
    }

    /// The balancer's view; keys and families are interned to numbers by
    /// the caller. Call `validate` first.
    pub fn to_spec(&self, concurrency_key: Option<u32>, model_family: u32) -> TestSpec {
        let backend = match &self.backend {
            Some(b) => Backends::from_name(b),
            None => (self.cuda_devices > 0).then_some(Backends::CUDA),
        };
        TestSpec {
            priority: self.priority,
            memory_mib: gb_to_mib_ceil(self.memory_gb),
            cuda_devices: self.cuda_devices,
            cpu_cores: self.cpu_cores,
            backend,
            expected_duration: SimDuration::from_secs_f64(self.expected_duration()),
            model_family,
            concurrency_key,
        }
    }
}

/// `POST /v1/tests` accepts one test, or `{"tests": [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBatch {
    pub tests: Vec<TestRequest>,
}

/// A test refused at submission.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rejection {
    pub test_id: u64,
    pub reason: String,
}

/// `201` answer to a submission: every test's id, in request order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Submitted {
    pub test_ids: Vec<u64>,
    /// The tests among them that no worker could ever hold.
    pub rejected: Vec<Rejection>,
}

/// `200` answer to a lease call: one assignment for this worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Lease {
    /// Unguessable; only its holder may start or complete it.
    pub lease_id: String,
    pub test_id: u64,
    /// 1 for the first run of the test, 2 after one requeue, ...
    pub attempt: u32,
    pub requirements: TestRequest,
    /// Unix time (seconds) at which the lease is lost unless the worker
    /// heartbeats; every heartbeat renews it.
    pub expires_at: f64,
}

/// `POST /v1/leases/{lease_id}/start`: optional body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseStart {
    /// If given, must be the lease's holder.
    #[serde(default)]
    pub worker_id: Option<u64>,
}

/// `POST /v1/leases/{lease_id}/complete`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub success: bool,
    /// How long the run took on the worker, seconds.
    pub run_time_s: f64,
    /// Anything the worker wants kept with the test: a JSON object of at
    /// most 64 KiB.
    #[serde(
        default,
        deserialize_with = "crate::json::object",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Object)]
    pub result: Option<serde_json::Value>,
    /// If given, must be the lease's holder.
    #[serde(default)]
    pub worker_id: Option<u64>,
    /// How the run ended; when given it wins over `success`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<RunOutcome>,
    /// The command's exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The last 64 KiB (at most) of the run's stdout and stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
    /// Hand `worker_id` (then required) its next lease in the answer, if
    /// one is waiting: a worker that keeps its slots busy makes one call
    /// per test, not two (a complete, then a lease call).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub next: bool,
}

impl Completion {
    /// A plain report: `success` and the run time, nothing else.
    pub fn new(success: bool, run_time_s: f64) -> Completion {
        Completion {
            success,
            run_time_s,
            result: None,
            worker_id: None,
            outcome: None,
            exit_code: None,
            log_tail: None,
            next: false,
        }
    }

    /// How the run ended: `outcome` when given, else from `success`.
    pub fn run_outcome(&self) -> RunOutcome {
        self.outcome.unwrap_or(if self.success {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        })
    }

    pub fn validate(&self) -> Result<(), FieldError> {
        let r = self.run_time_s;
        if !(r.is_finite() && (0.0..=1e9).contains(&r)) {
            return Err(bad("run_time_s", "must be seconds in [0, 1e9]"));
        }
        if let Some(v) = &self.result {
            if v.to_string().len() > 64 * 1024 {
                return Err(bad("result", "must be at most 64 KiB of JSON"));
            }
        }
        if self.next && self.worker_id.is_none() {
            return Err(bad(
                "next",
                "needs worker_id: the worker to hand the next lease to",
            ));
        }
        work::check_log_tail(&self.log_tail)
    }
}

/// The state a lease call left its test in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeaseAck {
    pub test_id: u64,
    pub state: TestState,
    /// The worker's next lease, when the completion asked for it (`next`)
    /// and one was waiting; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Lease>,
}

impl LeaseAck {
    /// The answer that names the test and its state, and hands nothing.
    pub fn new(test_id: u64, state: TestState) -> LeaseAck {
        LeaseAck {
            test_id,
            state,
            next: None,
        }
    }
}

/// Where a test is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestState {
    Pending,
    Assigned,
    Running,
    Completed,
    Failed,
    Rejected,
    /// Cancelled by `POST /v1/tests/{id}/cancel`.
    Cancelled,
    /// Its last run ran past `timeout_s`.
    TimedOut,
}

impl TestState {
    pub const ALL: [TestState; 8] = [
        TestState::Pending,
        TestState::Assigned,
        TestState::Running,
        TestState::Completed,
        TestState::Failed,
        TestState::Rejected,
        TestState::Cancelled,
        TestState::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TestState::Pending => "pending",
            TestState::Assigned => "assigned",
            TestState::Running => "running",
            TestState::Completed => "completed",
            TestState::Failed => "failed",
            TestState::Rejected => "rejected",
            TestState::Cancelled => "cancelled",
            TestState::TimedOut => "timed_out",
        }
    }

    pub fn parse(s: &str) -> Option<TestState> {
        TestState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            TestState::Completed
                | TestState::Failed
                | TestState::Rejected
                | TestState::Cancelled
                | TestState::TimedOut
        )
    }
}

/// One run (attempt) of a test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    pub attempt: u32,
    pub worker_id: u64,
    pub assigned_at: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    /// `completed`, `failed`, `timed_out`, `cancelled`, `lost` (worker
    /// timed out), `requeued` (worker left), `moved` (work stealing), or
    /// null while it runs.
    pub outcome: Option<String>,
    /// The run time its worker measured, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_time_s: Option<f64>,
    /// The command's exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// `GET /v1/tests/{id}`. Times are seconds since the store was created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestView {
    pub test_id: u64,
    pub state: TestState,
    pub requirements: TestRequest,
    /// Runs so far (assignments).
    pub attempts: u32,
    /// Runs lost with their worker (a test lost 5 times fails).
    pub losses: u32,
    pub worker_id: Option<u64>,
    pub submitted_at: f64,
    pub assigned_at: Option<f64>,
    pub started_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub run_time_s: Option<f64>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub result: Option<serde_json::Value>,
    /// The last run's exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Whether `GET /v1/tests/{id}/log` has a log tail.
    #[serde(default)]
    pub has_log: bool,
    pub runs: Vec<RunView>,
}

/// `GET /v1/tests` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TestList {
    pub tests: Vec<TestView>,
    /// Pass as `after` to get the next page (null: no more).
    pub next_after: Option<u64>,
}

/// Whether a worker takes work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatusView {
    Active,
    Draining,
    Offline,
}

/// `GET /v1/workers` entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerView {
    pub worker_id: u64,
    pub name: Option<String>,
    pub status: WorkerStatusView,
    pub capabilities: WorkerRegistration,
    /// Last measured utilisation, percent.
    pub load: Heartbeat,
    /// The balancer's effective load (0–1) as its policies see it.
    pub effective_load: f64,
    /// Tests assigned or running here.
    pub tests: Vec<u64>,
    pub assignments: u64,
    pub joined_at: f64,
    pub left_at: Option<f64>,
    /// Why it left, if it did.
    pub reason: Option<String>,
}

/// `GET /v1/workers` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerList {
    pub workers: Vec<WorkerView>,
}

/// Every error body: one line naming what is wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_becomes_a_spec_with_usable_memory() {
        let r = WorkerRegistration {
            memory_gb: 16.0,
            cpu_cores: 8,
            cuda_devices: 2,
            backends: None,
            name: None,
            labels: vec![],
        };
        let s = r.to_spec().unwrap();
        assert_eq!(s.memory_mib, 14745);
        assert!(s.backends.contains(Backends::CUDA));
        let bad = WorkerRegistration {
            backends: Some(vec!["tpu".into()]),
            ..r
        };
        assert_eq!(bad.to_spec().unwrap_err().0, "backends[0]");
    }

    #[test]
    fn test_fields_are_checked_with_their_path() {
        let t = TestRequest {
            priority: 9,
            ..TestRequest::default()
        };
        assert_eq!(t.validate("tests[2].").unwrap_err().0, "tests[2].priority");
        let t = TestRequest {
            expected_duration_s: Some(f64::NAN),
            ..TestRequest::default()
        };
        assert_eq!(t.validate("").unwrap_err().0, "expected_duration_s");
        assert!(TestRequest::default().validate("").is_ok());
        let h = Heartbeat {
            cpu: 101.0,
            ..Heartbeat::default()
        };
        assert_eq!(h.validate().unwrap_err().0, "cpu");
    }
}
