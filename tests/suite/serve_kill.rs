//! The coordinator under `kill -9`: of the server, of a worker fleet, of
//! both at once, at random moments while 2,000 tests are submitted and run
//! by 16 fake workers (`lbsim worker`, a real process). After the restart
//! every acknowledged test must be there, none completed twice, nothing
//! stuck past one heartbeat timeout, the recording must hold every fact
//! the store holds, and a draining fleet must exit.
//!
//! `LBSIM_KILL_TRIALS=N` sets the number of server-kill trials (default 10;
//! worker and both-at-once trials are a third of that, at least 2 each).

// Wall time is the point here: liveness bounds on real processes.
#![allow(clippy::disallowed_methods)]

use super::common::{path_str, temp_dir, wait_at_most};
use super::serve_support::Server;
use lbsim::client::Client;
use lbsim::service::api::{TestRequest, TestState, TestView};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TESTS: usize = 2_000;
const HEARTBEAT_TIMEOUT_S: f64 = 2.0;

/// What one trial kills.
#[derive(Clone, Copy, Debug)]
enum Kill {
    Server,
    Worker,
    Both,
}

/// What a trial counted.
#[derive(Debug, Default)]
struct Counts {
    kills: usize,
    acknowledged: usize,
    lost: usize,
    doubled: usize,
    stuck: usize,
    missing_from_recording: usize,
    fleet_exited: bool,
    integrity_ok: bool,
}

/// A small seeded generator (splitmix64): the kill moments of trial N are
/// the same on every run.
fn splitmix(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

fn fleet(dir: &std::path::Path, url: &str, seed: u64) -> Child {
    let n = std::fs::read_dir(dir).map_or(0, |d| d.count());
    let log = std::fs::File::create(dir.join(format!("worker-{n}.log"))).expect("log");
    Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args([
            "worker",
            "--url",
            url,
            "--workers",
            "16",
            "--time-scale",
            "0.02",
        ])
        .args(["--seed", &seed.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("lbsim worker starts")
}

/// Submits `TESTS` tests in batches of 25, again after a failure, keeping
/// the ids of the acknowledged ones (bounded: 90 s).
fn submit_all(url: String, acked: Arc<Mutex<Vec<u64>>>) {
    let client = Client::new(&url, None);
    let test = TestRequest {
        expected_duration_s: Some(1.0),
        memory_gb: 0.5,
        ..TestRequest::default()
    };
    let start = Instant::now();
    while acked.lock().unwrap().len() < TESTS && start.elapsed() < Duration::from_secs(90) {
        match client.submit_tests(vec![test.clone(); 25]) {
            Ok(s) => acked.lock().unwrap().extend(s.test_ids),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn restart(dir: &std::path::Path, port: u16, args: &[&str]) -> Server {
    // The old socket may linger a moment: a few tries on the same port.
    for _ in 0..50 {
        let s = std::panic::catch_unwind(|| Server::start_on(dir, port, args, &[]));
        if let Ok(s) = s {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("cannot restart the server on port {port}");
}

/// Waits until every test is final, or until nothing changed for longer
/// than one heartbeat timeout (then what is left is stuck); 120 s at most.
fn settle(client: &Client) -> Vec<TestView> {
    let mut last: Option<(usize, Instant)> = None;
    let start = Instant::now();
    loop {
        let Ok(tests) = client.all_tests(0) else {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        };
        let open = tests.iter().filter(|t| !t.state.is_final()).count();
        if open == 0 || start.elapsed() > Duration::from_secs(120) {
            return tests;
        }
        match last {
            Some((n, since)) if n == open => {
                if since.elapsed().as_secs_f64() > HEARTBEAT_TIMEOUT_S + 1.0 {
                    return tests;
                }
            }
            _ => last = Some((open, Instant::now())),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The recording's facts by kind: test ids with a submit, the (test,
/// attempt) pairs assigned, and the successful completions per test.
type Facts = (BTreeSet<u64>, BTreeSet<(u64, u64)>, BTreeMap<u64, usize>);

fn read_recording(path: &std::path::Path) -> Facts {
    let text = std::fs::read_to_string(path).expect("the recording");
    let mut facts = Facts::default();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON fact");
        let test = v["test"].as_u64().unwrap_or(0);
        match v["fact"].as_str() {
            Some("submit") => {
                facts.0.insert(test);
            }
            Some("assign") => {
                facts.1.insert((test, v["attempt"].as_u64().unwrap_or(0)));
            }
            Some("complete") if v["success"] == true => {
                *facts.2.entry(test).or_default() += 1;
            }
            _ => {}
        }
    }
    facts
}

fn integrity_ok(db: &std::path::Path) -> bool {
    let conn = rusqlite::Connection::open(db).expect("the store opens");
    let r: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check runs");
    r == "ok"
}

/// The processes of one trial, as a kill leaves them.
struct Live {
    server: Server,
    workers: Child,
}

impl Live {
    /// `kill -9` of what the trial kills, and a restart of it (the server on
    /// its own port, so the fleet finds it again).
    fn kill(&mut self, kill: Kill, dir: &std::path::Path, args: &[&str], fleet_seed: u64) {
        let (port, url) = (self.server.port(), self.server.url.clone());
        if matches!(kill, Kill::Server | Kill::Both) {
            self.server.kill9();
        }
        if matches!(kill, Kill::Worker | Kill::Both) {
            let _ = self.workers.kill();
            let _ = self.workers.wait();
        }
        if matches!(kill, Kill::Server | Kill::Both) {
            self.server = restart(dir, port, args);
        }
        if matches!(kill, Kill::Worker | Kill::Both) {
            self.workers = fleet(dir, &url, fleet_seed);
        }
    }
}

fn trial(i: u64, kill: Kill) -> Counts {
    let dir = temp_dir(&format!("kill-{i}"));
    let rec = dir.join("rec.jsonl");
    let args = ["--heartbeat-timeout", "2", "--record", path_str(&rec)];
    let server = Server::start(&dir, &args);
    let url = server.url.clone();
    let workers = fleet(&dir, &url, i);
    let mut live = Live { server, workers };
    let acked = Arc::new(Mutex::new(Vec::new()));
    let submitter = {
        let (url, acked) = (url.clone(), acked.clone());
        std::thread::spawn(move || submit_all(url, acked))
    };
    let mut rng = i.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0xdead_beef;
    let kills = 1 + (splitmix(&mut rng) * 2.0) as usize;
    let started = Instant::now();
    for _ in 0..kills {
        let at = Duration::from_secs_f64(0.2 + splitmix(&mut rng) * 2.5);
        std::thread::sleep(
            at.saturating_sub(started.elapsed())
                .min(Duration::from_secs(3)),
        );
        live.kill(kill, &dir, &args, i + 1000);
    }
    submitter.join().expect("the submitter ends");
    let tests = settle(&live.server.client());
    let acked = acked.lock().unwrap().clone();
    // A draining fleet exits (Ctrl-C, as a user stops it).
    let _ = Command::new("kill")
        .args(["-INT", &live.workers.id().to_string()])
        .status();
    let fleet_exited = wait_at_most(&mut live.workers, Duration::from_secs(30)).is_some();
    assert!(
        live.server.terminate().is_some_and(|s| s.success()),
        "a clean stop"
    );
    let counts = Counts {
        kills,
        fleet_exited,
        integrity_ok: integrity_ok(&dir.join("x.db")),
        ..count(&tests, &acked, &read_recording(&rec))
    };
    let _ = std::fs::remove_dir_all(&dir);
    counts
}

/// Lost, doubled, stuck and unrecorded, from the final tests, the
/// acknowledged ids and the recording.
fn count(tests: &[TestView], acked: &[u64], facts: &Facts) -> Counts {
    let (submits, assigns, completes) = facts;
    let by_id: BTreeMap<u64, &TestView> = tests.iter().map(|t| (t.test_id, t)).collect();
    let completed_runs = |t: &TestView| {
        t.runs
            .iter()
            .filter(|r| r.outcome.as_deref() == Some("completed"))
            .count()
    };
    let unrecorded = |t: &TestView| {
        let runs = t.runs.iter();
        let runs = runs.filter(|r| !assigns.contains(&(t.test_id, u64::from(r.attempt))));
        let completed = t.state == TestState::Completed && !completes.contains_key(&t.test_id);
        usize::from(!submits.contains(&t.test_id)) + runs.count() + usize::from(completed)
    };
    Counts {
        acknowledged: acked.len(),
        lost: acked.iter().filter(|id| !by_id.contains_key(id)).count(),
        stuck: tests.iter().filter(|t| !t.state.is_final()).count(),
        doubled: completes.values().filter(|&&n| n > 1).count()
            + tests.iter().filter(|t| completed_runs(t) > 1).count(),
        missing_from_recording: tests.iter().map(unrecorded).sum(),
        ..Counts::default()
    }
}

fn trials(kill: Kill, n: u64, first: u64) {
    let mut total = Counts::default();
    for i in first..first + n {
        let c = trial(i, kill);
        eprintln!("kill trial {i} ({kill:?}): {c:?}");
        assert!(
            c.lost == 0
                && c.doubled == 0
                && c.stuck == 0
                && c.missing_from_recording == 0
                && c.fleet_exited
                && c.integrity_ok
                && c.acknowledged > 0,
            "trial {i} ({kill:?}): {c:?} (rerun with this trial's seed: it is its number)"
        );
        total.kills += c.kills;
        total.acknowledged += c.acknowledged;
    }
    eprintln!(
        "{kill:?} kills: {n} trials, {} kills, {} acknowledged tests: 0 lost, 0 completed twice, 0 stuck, recording holds the store",
        total.kills, total.acknowledged
    );
}

fn server_trials() -> u64 {
    std::env::var("LBSIM_KILL_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

#[test]
fn kill_9_of_the_server_loses_doubles_and_strands_nothing() {
    trials(Kill::Server, server_trials(), 0);
}

#[test]
fn kill_9_of_a_worker_fleet_strands_nothing() {
    trials(Kill::Worker, (server_trials() / 3).max(2), 100);
}

#[test]
fn kill_9_of_server_and_fleet_at_once_loses_doubles_and_strands_nothing() {
    trials(Kill::Both, (server_trials() / 3).max(2), 200);
}

/// A measurement, not a check (run it with `--ignored --nocapture`): the
/// latency of `POST /v1/tests` while a worker holding 100,000 runs is lost
/// with 110,000 tests pending. Its figures go in the notes.
#[test]
#[ignore = "a measurement: prints the latency of submissions during a large loss"]
fn measure_submissions_while_a_worker_with_100000_runs_is_lost() {
    let dir = temp_dir("kill-measure");
    let server = Server::start(&dir, &["--heartbeat-timeout", "5"]);
    let c = server.client();
    let zero = TestRequest {
        memory_gb: 0.0,
        cpu_cores: 0,
        ..TestRequest::default()
    };
    for _ in 0..100 {
        c.submit_tests(vec![zero.clone(); 1000]).unwrap();
    }
    let giant = lbsim::service::api::WorkerRegistration {
        memory_gb: 1.0,
        cpu_cores: 1,
        cuda_devices: 0,
        backends: None,
        name: Some("giant".into()),
        labels: vec![],
    };
    let t = Instant::now();
    c.register_worker(&giant).unwrap();
    eprintln!(
        "registration placing 100,000 runs: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    let small = lbsim::service::api::WorkerRegistration {
        memory_gb: 2.0,
        name: Some("small".into()),
        ..giant
    };
    c.register_worker(&small).unwrap();
    let big = TestRequest {
        memory_gb: 1.5,
        ..TestRequest::default()
    };
    for _ in 0..10 {
        c.submit_tests(vec![big.clone(); 1000]).unwrap();
    }
    let mut lat = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) && lat.len() < 100_000 {
        let t = Instant::now();
        c.submit_test(&big).unwrap();
        lat.push((start.elapsed().as_secs_f64(), t.elapsed().as_secs_f64()));
    }
    let mut all: Vec<f64> = lat.iter().map(|l| l.1).collect();
    all.sort_by(f64::total_cmp);
    let q = |p: f64| all[((all.len() - 1) as f64 * p) as usize] * 1e3;
    eprintln!(
        "{} submissions over 15 s (the worker lost at about 5 s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    let status = c.status().unwrap();
    eprintln!("after: {}", status["tests"]);
}
