//! Record in production, replay in simulation: a live coordinator with a
//! mixed fleet, one worker drained and another deleted, replayed on exactly
//! that pool, with the live and replayed decision logs side by side.

use super::common::{lbsim, path_str, stderr, stdout, temp_dir};
use super::serve_support::Server;
use lbsim::client::{AssignmentStatus, Client};
use lbsim::service::api::{TestRequest, TestState, WorkerRegistration};
use serde_json::{json, Value};
use std::path::Path;

/// Three shapes of worker, two named; the fourth joins later.
fn fleet() -> Vec<WorkerRegistration> {
    let worker = |memory_gb, cpu_cores, cuda_devices, backends: &[&str], name: Option<&str>| {
        WorkerRegistration {
            memory_gb,
            cpu_cores,
            cuda_devices,
            backends: Some(backends.iter().map(|b| b.to_string()).collect()),
            name: name.map(str::to_string),
            labels: vec![],
        }
    };
    vec![
        worker(16.0, 8, 0, &["cpu"], Some("cpu-a")),
        worker(64.0, 32, 2, &["cpu", "cuda"], Some("gpu-b")),
        worker(8.0, 4, 0, &["cpu", "rocm"], None),
        worker(32.0, 16, 1, &["cpu", "cuda"], Some("late")),
    ]
}

fn submit(client: &Client, n: usize) -> Vec<u64> {
    let test: TestRequest =
        serde_json::from_value(json!({"memory_gb": 1, "expected_duration_s": 5})).unwrap();
    client.submit_tests(vec![test; n]).unwrap().test_ids
}

/// Every worker in `workers` leases, starts and completes what it is given
/// (0.2 s each) until `tests` are all completed; bounded in rounds.
fn run_to_completion(client: &Client, workers: &[u64], tests: &[u64]) {
    for _ in 0..100 {
        for &w in workers {
            if let Some(lease) = client.get_next_assignment(w, 0.05).unwrap() {
                let id = &lease.lease_id;
                client
                    .update_assignment_status(id, AssignmentStatus::Running)
                    .unwrap();
                let done = AssignmentStatus::Completed {
                    run_time_s: 0.2,
                    result: None,
                };
                client.update_assignment_status(id, done).unwrap();
            }
        }
        let completed = (tests.iter())
            .filter(|&&t| client.get_test(t).unwrap().state == TestState::Completed)
            .count();
        if completed == tests.len() {
            return;
        }
    }
    panic!("the tests did not all complete");
}

/// The decision log's rows as (test, worker, attempt).
fn decisions(path: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time,test,worker,policy,score,candidates,attempt")
    );
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1].to_string(), c[2].to_string(), c[6].to_string())
        })
        .collect()
}

/// Each join fact's time since the recording's first fact.
fn join_times(rec: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(rec).unwrap();
    let facts: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let t0 = facts[0]["t"].as_f64().unwrap();
    (facts.iter())
        .filter(|f| f["fact"] == "join")
        .map(|f| f["t"].as_f64().unwrap() - t0)
        .collect()
}

#[test]
fn a_recording_replays_on_exactly_the_live_fleet() {
    let dir = temp_dir("record-replay");
    let rec = dir.join("rec.jsonl");
    let mut server = Server::start(&dir, &["--record", path_str(&rec)]);
    let client = server.client();
    let specs = fleet();
    let ids: Vec<u64> = (specs[..3].iter())
        .map(|r| client.register_worker(r).unwrap().worker_id)
        .collect();
    let first = submit(&client, 6);
    let late = client.register_worker(&specs[3]).unwrap().worker_id;
    let all = [ids.clone(), vec![late]].concat();
    run_to_completion(&client, &all, &first);
    // Not the oldest: the third drains, the second leaves.
    client.drain_worker(ids[2]).unwrap();
    client.unregister_worker(ids[1]).unwrap();
    let second = submit(&client, 4);
    run_to_completion(&client, &[ids[0], late], &second);
    let live_workers = client.list_workers().unwrap().workers;
    assert_eq!(server.terminate().map(|s| s.success()), Some(true));

    let (out_json, sim_csv, live_csv) = (
        dir.join("replay.json"),
        dir.join("sim.csv"),
        dir.join("live.csv"),
    );
    let out = lbsim(&[
        "replay",
        path_str(&rec),
        "--scheduler",
        "least_loaded",
        "--output",
        path_str(&out_json),
        "--decisions",
        path_str(&sim_csv),
        "--live-decisions",
        path_str(&live_csv),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(recording): 10 records, 10 replayed"),
        "{}",
        stdout(&out)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out_json).unwrap()).unwrap();
    assert_eq!(doc["metrics"]["completed_tests"], 10);
    assert_eq!(
        doc["configuration"]["workers"], 3,
        "there at the first submission"
    );
    // Every worker exactly as it registered, in join order.
    let rows = doc["workers"].as_array().unwrap();
    let recorded = doc["configuration"]["churn"]["workers"].as_array().unwrap();
    assert_eq!((rows.len(), recorded.len()), (4, 4));
    let joined = join_times(&rec);
    for (i, live) in live_workers.iter().enumerate() {
        let (row, cap) = (&rows[i], &live.capabilities);
        assert_eq!(row["memory_gb"], cap.memory_gb, "worker {i}");
        assert_eq!(row["cpu_cores"], cap.cpu_cores, "worker {i}");
        assert_eq!(row["cuda_devices"], cap.cuda_devices, "worker {i}");
        assert_eq!(recorded[i]["backends"], json!(cap.backends), "worker {i}");
        assert_eq!(recorded[i]["name"], json!(live.name), "worker {i}");
        let expected_join = if i < 3 { 0.0 } else { joined[3] };
        let at = row["joined_at"].as_f64().unwrap();
        assert!(
            (at - expected_join).abs() < 1e-3,
            "worker {i} joined at {at}"
        );
    }
    // The drained and the deleted worker leave; the oldest and the late one stay.
    let left: Vec<bool> = rows.iter().map(|r| !r["left_at"].is_null()).collect();
    assert_eq!(left, [false, true, true, false]);
    let leaves = doc["configuration"]["churn"]["leaves"].as_array().unwrap();
    let named: Vec<(u64, &str)> = (leaves.iter())
        .map(|l| (l["worker"].as_u64().unwrap(), l["action"].as_str().unwrap()))
        .collect();
    assert_eq!(named, [(2, "drain"), (1, "fail")]);

    // The two logs name the same tests, attempts and workers: after the
    // drain and the delete, both put every test on the two that stayed.
    let (live_log, sim_log) = (decisions(&live_csv), decisions(&sim_csv));
    assert_eq!(live_log.len(), 10);
    let tests = |log: &[(String, String, String)]| -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> =
            log.iter().map(|(t, _, a)| (t.clone(), a.clone())).collect();
        t.sort();
        t
    };
    assert_eq!(tests(&live_log), tests(&sim_log));
    let pool: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let stayed = [pool[0], pool[3]];
    let second_batch = |test: &str| test >= "test-000006";
    for log in [&live_log, &sim_log] {
        assert!(
            log.iter().all(|(_, w, _)| pool.contains(&w.as_str())),
            "{log:?}"
        );
        let after = log.iter().filter(|(t, _, _)| second_batch(t));
        assert_eq!(after.clone().count(), 4, "{log:?}");
        assert!(
            after.clone().all(|(_, w, _)| stayed.contains(&w.as_str())),
            "{log:?}"
        );
    }

    // --workers has nothing to set on an exact pool.
    let out = lbsim(&["replay", path_str(&rec), "--workers", "2"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).lines().next().unwrap_or(""),
        "lbsim: error: invalid --workers: a recording replays its own pool (4 workers, each as it \
         registered); leave --workers out, or add --cluster SCENARIO to run on another pool"
    );
}
