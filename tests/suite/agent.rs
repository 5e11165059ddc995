//! `lbsim worker --exec` and `lbsim submit`: real commands through a live
//! coordinator (port 0, 127.0.0.1): outcomes, exit codes, log tails,
//! devices, retries, time limits, cancellation, a killed agent, measured
//! load, and submit's summary, JUnit XML and exit codes. Every wait is
//! bounded; every process is stopped by its pid.

use super::common::{bin, lbsim, path_str, stderr, temp_dir, wait_at_most};
use super::serve_support::Server;
use lbsim::client::Client;
use lbsim::service::api::{TestRequest, TestState, TestView};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A running `lbsim worker --exec`; SIGKILLed on drop.
struct Agent {
    child: Child,
}

impl Agent {
    /// Starts an agent that runs the tests' own commands, with `args`
    /// added, and waits (at most 30 s) for its registration line.
    fn start(url: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Agent {
        let logs = dir.join(format!("logs-{}", args.join("_").replace('/', "")));
        let mut cmd = bin();
        cmd.args(["worker", "--exec", "--url", url, "--allow-test-commands"])
            .args(["--grace", "1", "--log-dir", path_str(&logs)])
            .args(args)
            .env_remove("LB_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("lbsim worker starts");
        let out = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next());
            for _ in lines {} // keep reading: a full pipe would block the agent
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a registration line");
        assert!(format!("{line:?}").contains("registered"), "{line:?}");
        Agent { child }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    /// Stops it as a user would: Ctrl-C twice (the second ends its runs:
    /// SIGTERM to each run's process group, `--grace 1`, SIGKILL), so no
    /// run outlives the test; `kill -9` only if it has not exited in 15 s.
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let pid = self.child.id().to_string();
            for _ in 0..2 {
                let _ = std::process::Command::new("kill")
                    .args(["-INT", &pid])
                    .status();
                std::thread::sleep(Duration::from_millis(200));
            }
            if wait_at_most(&mut self.child, Duration::from_secs(15)).is_none() {
                self.kill9();
            }
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sh(script: &str) -> Option<Vec<String>> {
    Some(vec!["sh".into(), "-c".into(), script.into()])
}

/// Polls until every test in `ids` is final (at most `limit`); their views.
fn wait_final(c: &Client, ids: &[u64], limit: Duration) -> BTreeMap<u64, TestView> {
    let step = Duration::from_millis(100);
    for _ in 0..(limit.as_millis() / step.as_millis()) {
        let views: BTreeMap<u64, TestView> =
            ids.iter().map(|&i| (i, c.get_test(i).unwrap())).collect();
        if views.values().all(|v| v.state.is_final()) {
            return views;
        }
        std::thread::sleep(step);
    }
    let left: Vec<String> = ids
        .iter()
        .map(|&i| c.get_test(i).unwrap())
        .filter(|v| !v.state.is_final())
        .map(|v| format!("{} {:?}", v.test_id, v.state))
        .collect();
    panic!("not final within {limit:?}: {left:?}");
}

/// Polls `f` every 50 ms until it holds (at most `limit`).
fn until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..(limit.as_millis() / 50) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

/// What test `i` of the 200 does: 0 passes after printing, 1 exits 3
/// (retried once), 2 burns CPU, 3 sleeps; every fourth asks for a device.
fn mixed_test(i: u64, record: &Path) -> TestRequest {
    let rec = path_str(record);
    let kind = i % 4;
    let body = match kind {
        0 => format!("echo hello-{i}"),
        1 => format!("echo failing-{i}; exit 3"),
        2 => "n=0; while [ $n -lt 3000 ]; do n=$((n+1)); done".to_string(),
        _ => "sleep 0.05".to_string(),
    };
    let script = format!(
        "s=$(date +%s%N); ( {body} ); r=$?; \
         echo \"$AGENT $LBSIM_TEST_ID $LBSIM_ATTEMPT [$CUDA_VISIBLE_DEVICES] $s $(date +%s%N)\" >> {rec}; exit $r"
    );
    TestRequest {
        name: Some(format!("t{i}")),
        command: sh(&script),
        cuda_devices: u32::from(i % 8 == 3),
        max_retries: u32::from(kind == 1),
        expected_duration_s: Some(0.1),
        ..TestRequest::default()
    }
}

/// One line of the record: (agent, test, attempt, devices, start, end).
type Rec = (String, u64, u32, String, u128, u128);

fn records(path: &Path) -> Vec<Rec> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 6, "{l}");
            let devices = f[3].trim_matches(['[', ']']).to_string();
            (
                f[0].into(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                devices,
                f[4].parse().unwrap(),
                f[5].parse().unwrap(),
            )
        })
        .collect()
}

/// No two runs on one agent held a device at overlapping times.
fn assert_devices_exclusive(recs: &[Rec]) {
    let mut by_device: BTreeMap<(String, String), Vec<(u128, u128)>> = BTreeMap::new();
    for (agent, _, _, devices, s, e) in recs {
        for d in devices.split(',').filter(|d| !d.is_empty()) {
            by_device
                .entry((agent.clone(), d.to_string()))
                .or_default()
                .push((*s, *e));
        }
    }
    assert!(!by_device.is_empty(), "no run had a device");
    for (key, mut spans) in by_device {
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 <= w[1].0, "device {key:?} shared: {w:?}");
        }
    }
}

#[test]
fn two_agents_run_200_real_commands_each_to_one_final_state() {
    let dir = temp_dir("agent-200");
    let server = Server::start(&dir, &["--heartbeat-timeout", "3"]);
    let flags = ["--slots", "4", "--cores", "4", "--cuda-devices", "2"];
    let _a = Agent::start(&server.url, &dir, &flags, &[("AGENT", "a")]);
    let _b = Agent::start(
        &server.url,
        &dir,
        &[&flags[..], &["--name", "b", "--keep-logs", "50"]].concat(),
        &[("AGENT", "b")],
    );
    let record = dir.join("runs.txt");
    let c = server.client();
    let tests: Vec<TestRequest> = (0..200).map(|i| mixed_test(i, &record)).collect();
    let ids = c.submit_tests(tests).unwrap().test_ids;
    let views = wait_final(&c, &ids, Duration::from_secs(60));
    let recs = records(&record);
    for (i, id) in ids.iter().enumerate() {
        let v = &views[id];
        let runs: Vec<u32> = recs.iter().filter(|r| r.1 == *id).map(|r| r.2).collect();
        if i % 4 == 1 {
            assert_eq!(v.state, TestState::Failed, "{v:?}");
            assert_eq!(v.exit_code, Some(3));
            assert_eq!(
                (v.attempts, runs),
                (2, vec![1, 2]),
                "one retry, each attempt run once"
            );
            assert!(c.test_log(*id).unwrap().contains(&format!("failing-{i}")));
        } else {
            assert_eq!(v.state, TestState::Completed, "{v:?}");
            assert_eq!((v.attempts, runs), (1, vec![1]), "test {id} ran once");
        }
        if i % 4 == 0 {
            assert!(c.test_log(*id).unwrap().contains(&format!("hello-{i}")));
        }
    }
    assert_eq!(recs.len(), 250, "200 runs and 50 retries");
    assert_devices_exclusive(&recs);
    let no_device = recs.iter().filter(|r| r.3.is_empty()).count();
    assert_eq!(no_device, 250 - 25, "a run without devices sees none");
    assert!(recs.iter().any(|r| r.0 == "a") && recs.iter().any(|r| r.0 == "b"));
    // Every run's log is kept by a (the default keeps 1,000), the last 50
    // by b (`--keep-logs 50`: newer runs took over older files).
    let logs_of = |b: bool| {
        let d = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with("logs-") && name.contains("keep-logs") == b
            })
            .expect("the agent's log dir");
        std::fs::read_dir(d).unwrap().count()
    };
    let ran = |agent: &str| recs.iter().filter(|r| r.0 == agent).count();
    assert_eq!(logs_of(false), ran("a"), "a keeps each run's log");
    assert_eq!(logs_of(true), ran("b").min(50), "b keeps the last 50");
}

#[test]
fn a_timeout_and_a_cancel_end_their_runs_and_process_groups() {
    let dir = temp_dir("agent-stop");
    let server = Server::start(&dir, &["--heartbeat-timeout", "2"]);
    let _agent = Agent::start(&server.url, &dir, &["--slots", "2", "--cores", "2"], &[]);
    let c = server.client();
    let pidfile = dir.join("pid");
    // Ignores SIGTERM: the grace period ends, then SIGKILL.
    let stubborn = TestRequest {
        command: sh("trap '' TERM; sleep 30"),
        timeout_s: Some(0.5),
        ..TestRequest::default()
    };
    let cancelled = TestRequest {
        command: sh(&format!(
            "echo $$ > {}; sleep 30 & sleep 30; wait",
            path_str(&pidfile)
        )),
        ..TestRequest::default()
    };
    let ids = c.submit_tests(vec![stubborn, cancelled]).unwrap().test_ids;
    assert!(until(Duration::from_secs(20), || std::fs::read_to_string(
        &pidfile
    )
    .is_ok_and(|s| s.ends_with('\n'))));
    let pgid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !lbsim::agent::process::group_gone(pgid),
        "the run's group is alive"
    );
    c.cancel_test(ids[1]).unwrap();
    let views = wait_final(&c, &ids, Duration::from_secs(20));
    assert_eq!(views[&ids[0]].state, TestState::TimedOut);
    assert!(c.test_log(ids[0]).unwrap().contains("timed out"));
    assert_eq!(views[&ids[1]].state, TestState::Cancelled);
    // The agent ends the group (SIGTERM now, SIGKILL after 1 s of grace).
    assert!(
        until(Duration::from_secs(10), || {
            lbsim::agent::process::group_gone(pgid)
        }),
        "process group {pgid} still has processes"
    );
}

#[test]
fn a_killed_agents_runs_are_requeued_and_another_agent_finishes_them() {
    let dir = temp_dir("agent-kill");
    let server = Server::start(&dir, &["--heartbeat-timeout", "2"]);
    let mut first = Agent::start(
        &server.url,
        &dir,
        &["--slots", "2", "--cores", "2", "--name", "first"],
        &[],
    );
    let c = server.client();
    let test = TestRequest {
        command: sh("sleep $((LBSIM_ATTEMPT == 1 ? 3 : 0))"),
        ..TestRequest::default()
    };
    let ids = c.submit_tests(vec![test.clone(), test]).unwrap().test_ids;
    let running = || {
        ids.iter()
            .all(|&i| c.get_test(i).unwrap().state == TestState::Running)
    };
    assert!(until(Duration::from_secs(20), running));
    first.kill9();
    let _second = Agent::start(
        &server.url,
        &dir,
        &["--slots", "2", "--cores", "2", "--name", "second"],
        &[],
    );
    let views = wait_final(&c, &ids, Duration::from_secs(30));
    for v in views.values() {
        assert_eq!(v.state, TestState::Completed, "{v:?}");
        assert_eq!(v.runs[0].outcome.as_deref(), Some("lost"), "{v:?}");
        assert_ne!(v.runs.last().unwrap().worker_id, v.runs[0].worker_id);
    }
}

#[test]
fn an_agent_running_cpu_burners_reports_its_measured_cpu_load() {
    let dir = temp_dir("agent-load");
    let server = Server::start(&dir, &["--heartbeat-timeout", "2"]);
    let n = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(32);
    let slots = n.to_string();
    let _agent = Agent::start(
        &server.url,
        &dir,
        &["--slots", &slots, "--cores", &slots],
        &[],
    );
    let c = server.client();
    // The agent's reservations alone would say 1 core of 64, under 2 %.
    let burner = TestRequest {
        command: sh("while :; do :; done"),
        timeout_s: Some(6.0),
        ..TestRequest::default()
    };
    let ids = c.submit_tests(vec![burner; n]).unwrap().test_ids;
    let mut seen = 0.0_f64;
    let busy = until(Duration::from_secs(8), || {
        let w = c.list_workers().unwrap();
        seen = w.workers.iter().map(|w| w.load.cpu).fold(0.0, f64::max);
        seen > 50.0
    });
    assert!(
        busy,
        "the agent reported {seen} % CPU while {n} burners ran"
    );
    for &id in &ids {
        let _ = c.cancel_test(id);
    }
    wait_final(&c, &ids, Duration::from_secs(20));
}

fn submit(url: &str, file: &Path, junit: &Path) -> std::process::ExitStatus {
    let mut child = bin()
        .args([
            "submit",
            "--url",
            url,
            "--wait",
            "--file",
            path_str(file),
            "--junit",
            path_str(junit),
        ])
        .env_remove("LB_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_at_most(&mut child, Duration::from_secs(60)).expect("submit --wait ends")
}

#[test]
fn submit_wait_exits_1_with_a_failing_test_and_0_without_and_writes_junit() {
    let dir = temp_dir("agent-submit");
    let server = Server::start(&dir, &["--heartbeat-timeout", "2"]);
    let _agent = Agent::start(&server.url, &dir, &["--slots", "2", "--cores", "2"], &[]);
    let line = |name: &str, script: &str| {
        serde_json::json!({"name": name, "command": ["sh", "-c", script]}).to_string()
    };
    let bad = dir.join("bad.jsonl");
    let text = [
        line("tests/a.py::test_ok", "echo ok"),
        line("tests/a.py::test_bad", "printf 'bad <&> \\033[31m'; exit 3"),
    ];
    std::fs::write(&bad, text.join("\n")).unwrap();
    let junit = dir.join("bad.xml");
    assert_eq!(submit(&server.url, &bad, &junit).code(), Some(1));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit XML parses");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[1].attribute("classname"), Some("tests/a.py"));
    let failure = cases[1]
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert!(failure.text().unwrap_or("").contains("bad <&>"), "{xml}");
    assert!(cases[0].children().all(|n| !n.has_tag_name("failure")));

    let good = dir.join("good.jsonl");
    std::fs::write(&good, line("ok", "true")).unwrap();
    assert_eq!(
        submit(&server.url, &good, &dir.join("good.xml")).code(),
        Some(0)
    );
}

#[test]
fn bad_agent_and_submit_input_is_refused_naming_the_flag_or_line() {
    let dir = temp_dir("agent-bad");
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "worker",
                "--exec",
                "--url",
                "http://10.1.2.3:8080",
                "--allow-test-commands",
            ],
            "--allow-test-commands",
        ),
        (&["worker", "--exec"], "--exec"),
        (&["worker", "--exec", "--", "pytest", "{nam}"], "{nam}"),
        (&["worker", "--slots", "2"], "--exec"),
        (&["submit", "--name", "x"], "CMD"),
    ];
    for (args, named) in cases {
        let o = lbsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(named), "{args:?}: {}", stderr(&o));
    }
    let file = dir.join("t.jsonl");
    std::fs::write(&file, "{\"command\": [\"true\"]}\n\n{\"priority\": 9}\n").unwrap();
    let o = lbsim(&["submit", "--file", path_str(&file)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("t.jsonl:3: priority"), "{}", stderr(&o));
}

#[test]
fn a_draining_agent_whose_coordinator_is_gone_gives_up_within_a_bound() {
    let dir = temp_dir("agent-away");
    let mut server = Server::start(&dir, &[]);
    let mut agent = Agent::start(&server.url, &dir, &["--slots", "1"], &[]);
    server.kill9();
    let pid = agent.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    // It waits a minute for the coordinator to come back, then leaves.
    let exited = wait_at_most(&mut agent.child, Duration::from_secs(90));
    let status = exited.expect("the agent still runs 90 s after Ctrl-C with its coordinator gone");
    assert_eq!(status.code(), Some(1), "a run that failed: {status:?}");
}
