//! The coordinator's speed over loopback (not a timed test): starts
//! `lbsim serve` on a temporary store (`synchronous=FULL`) and measures
//! 1. a 20,000-test submission drained by 64 fake workers at time scale 0
//!    (lifecycles per second: submit, lease, start, complete; call latencies);
//! 2. 10,000 registered workers heartbeating on the server's pace (latency);
//! 3. the server's resident memory with 100,000 tests stored.
//!
//! `cargo bench --bench serve_speed` (add `-- --quick` for a smaller run).

// A measurement prints its figures (clippy.toml bans that in the CLI).
#![allow(clippy::disallowed_macros)]

use lbsim::client::{AssignmentStatus, Client};
use lbsim::service::api::{Heartbeat, TestRequest, WorkerRegistration};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[allow(clippy::disallowed_methods)] // wall time is what a speed figure measures
fn now() -> Instant {
    Instant::now()
}

fn pct(xs: &mut [f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() as f64 * p).ceil() as usize).clamp(1, xs.len()) - 1]
}

fn ms(xs: &mut [f64]) -> String {
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(xs, 0.5) * 1e3,
        pct(xs, 0.99) * 1e3,
        pct(xs, 1.0) * 1e3
    )
}

fn registration(i: usize) -> WorkerRegistration {
    WorkerRegistration {
        memory_gb: 16.0,
        cpu_cores: 4,
        cuda_devices: 0,
        backends: None,
        name: Some(format!("bench-{i}")),
    }
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb * 1024.0 / 1e6
}

fn drain(url: &str, tests: usize, workers: usize) {
    let c = Client::new(url, None);
    let t0 = now();
    for chunk in 0..tests.div_ceil(1000) {
        let n = 1000.min(tests - chunk * 1000);
        c.submit_tests(vec![
            TestRequest {
                expected_duration_s: 1.0,
                ..TestRequest::default()
            };
            n
        ])
        .unwrap();
    }
    let submitted_s = t0.elapsed().as_secs_f64();
    let done = AtomicU64::new(0);
    let lat = Mutex::new((Vec::new(), Vec::new(), Vec::new()));
    std::thread::scope(|s| {
        for i in 0..workers {
            let (done, lat) = (&done, &lat);
            s.spawn(move || {
                let c = Client::new(url, None);
                let w = c.register_worker(&registration(i)).unwrap().worker_id;
                let (mut l, mut st, mut co) = (Vec::new(), Vec::new(), Vec::new());
                while done.load(Ordering::SeqCst) < tests as u64 {
                    let t = now();
                    let Some(lease) = c.get_next_assignment(w, 0.5).unwrap() else {
                        continue;
                    };
                    l.push(t.elapsed().as_secs_f64());
                    let t = now();
                    c.update_assignment_status(&lease.lease_id, AssignmentStatus::Running)
                        .unwrap();
                    st.push(t.elapsed().as_secs_f64());
                    let t = now();
                    let fin = AssignmentStatus::Completed {
                        run_time_s: 0.0,
                        result: None,
                    };
                    c.update_assignment_status(&lease.lease_id, fin).unwrap();
                    co.push(t.elapsed().as_secs_f64());
                    done.fetch_add(1, Ordering::SeqCst);
                }
                let mut g = lat.lock().unwrap();
                g.0.extend(l);
                g.1.extend(st);
                g.2.extend(co);
            });
        }
    });
    let total = t0.elapsed().as_secs_f64();
    let (mut l, mut s, mut c) = lat.into_inner().unwrap();
    println!("drain: {tests} tests, {workers} workers: submitted in {submitted_s:.2} s; all completed in {total:.2} s = {:.0} lifecycles/s", tests as f64 / total);
    println!("  lease    {}", ms(&mut l));
    println!("  start    {}", ms(&mut s));
    println!("  complete {}", ms(&mut c));
}

/// Registers `workers` workers from 8 threads: (id, heartbeat interval).
fn register_fleet(c: &Client, workers: usize) -> Vec<(u64, f64)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|k| {
                let c = c.clone();
                s.spawn(move || {
                    (k..workers)
                        .step_by(8)
                        .map(|i| {
                            let r = c.register_worker(&registration(i)).unwrap();
                            (r.worker_id, r.heartbeat_interval_s)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn heartbeats(url: &str, workers: usize, seconds: f64) {
    let c = Client::new(url, None);
    let ids = register_fleet(&c, workers);
    let lat = Mutex::new(Vec::new());
    let sent = AtomicU64::new(0);
    let t0 = now();
    std::thread::scope(|s| {
        for part in ids.chunks(ids.len().div_ceil(32)) {
            let (lat, sent, c) = (&lat, &sent, c.clone());
            s.spawn(move || {
                // Each worker's first beat is spread over its interval.
                let mut due: Vec<(f64, u64)> = part
                    .iter()
                    .enumerate()
                    .map(|(i, &(id, every))| (every * i as f64 / part.len() as f64, id))
                    .collect();
                let mut mine = Vec::new();
                loop {
                    due.sort_by(|a, b| b.0.total_cmp(&a.0));
                    let Some((at, id)) = due.pop() else { break };
                    if at > seconds {
                        break;
                    }
                    let wait = at - t0.elapsed().as_secs_f64();
                    if wait > 0.0 {
                        std::thread::sleep(Duration::from_secs_f64(wait));
                    }
                    let t = now();
                    let r = c
                        .update_worker_load(
                            id,
                            &Heartbeat {
                                cpu: 20.0,
                                ..Heartbeat::default()
                            },
                        )
                        .unwrap();
                    mine.push(t.elapsed().as_secs_f64());
                    sent.fetch_add(1, Ordering::SeqCst);
                    due.push((at + r.next_heartbeat_s, id));
                }
                lat.lock().unwrap().extend(mine);
            });
        }
    });
    let mut lat = lat.into_inner().unwrap();
    let n = sent.load(Ordering::SeqCst);
    println!(
        "heartbeats: {workers} workers on the server's pace for {seconds} s: {n} beats ({:.0}/s)",
        n as f64 / seconds
    );
    println!("  heartbeat {}", ms(&mut lat));
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let dir = std::env::temp_dir().join(format!("lbsim-serve-speed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(["serve", "--port", "0", "--log-level", "error", "--db-path"])
        .arg(dir.join("speed.db"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    println!("{}", line.trim());
    let (tests, hb_workers, hb_s, stored) = if quick {
        (2_000, 1_000, 5.0, 10_000)
    } else {
        (20_000, 10_000, 30.0, 100_000)
    };
    drain(&url, tests, 64);
    heartbeats(&url, hb_workers, hb_s);
    let c = Client::new(&url, None);
    for _ in 0..(stored - tests) / 1000 {
        c.submit_tests(vec![TestRequest::default(); 1000]).unwrap();
    }
    println!(
        "memory: {stored} tests stored ({} workers registered): server RSS {:.0} MB",
        hb_workers + 64,
        rss_mb(child.id())
    );
    let db_mb = std::fs::metadata(dir.join("speed.db")).map_or(0, |m| m.len()) as f64 / 1e6;
    println!("store: {db_mb:.1} MB on disk (plus WAL)");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
