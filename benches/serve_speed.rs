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
        labels: vec![],
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

/// User + system CPU seconds a process has used (`/proc/PID/stat`).
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) closes with ')'.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    (f.get(10).unwrap_or(&0.0) + f.get(11).unwrap_or(&0.0)) / 100.0
}

/// One fake worker's lease/start/complete latencies, in seconds.
type Latencies = (Vec<f64>, Vec<f64>, Vec<f64>);

/// One fake worker at time scale 0, on its own thread at `nice` (0: the
/// server's own priority): registers, runs tests until `done` reaches
/// `tests`, then leaves so that a later drain does not lease to it.
fn fake_worker(url: &str, i: usize, nice: i32, tests: u64, done: &AtomicU64) -> Latencies {
    if nice != 0 {
        // SAFETY: plain syscalls on this thread's own id. On Linux a nice
        // value belongs to the thread, so only the fake workers lose
        // precedence over the server (as if they ran on other machines).
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice);
        }
    }
    let c = Client::new(url, None);
    let w = c.register_worker(&registration(i)).unwrap().worker_id;
    let (mut l, mut st, mut co) = (Vec::new(), Vec::new(), Vec::new());
    while done.load(Ordering::SeqCst) < tests {
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
    c.unregister_worker(w).unwrap();
    (l, st, co)
}

/// The routes a lifecycle calls, as `/metrics` labels them.
const ROUTES: [(&str, &str); 3] = [
    ("lease", "/v1/workers/{id}/lease"),
    ("start", "/v1/leases/{lease}/start"),
    ("complete", "/v1/leases/{lease}/complete"),
];

/// Submits `tests` tests and drains them with `workers` fake workers at
/// `nice`; prints the rate and the call latencies, as the clients and as
/// the server saw them.
fn drain(url: &str, tests: usize, workers: usize, nice: i32) {
    let c = Client::new(url, None);
    let before: Vec<Buckets> = ROUTES.iter().map(|r| server_buckets(url, r.1)).collect();
    let t0 = now();
    for chunk in 0..tests.div_ceil(1000) {
        let n = 1000.min(tests - chunk * 1000);
        let test = TestRequest {
            expected_duration_s: Some(1.0),
            ..TestRequest::default()
        };
        c.submit_tests(vec![test; n]).unwrap();
    }
    let submitted_s = t0.elapsed().as_secs_f64();
    let done = AtomicU64::new(0);
    let lat = Mutex::new((Vec::new(), Vec::new(), Vec::new()));
    std::thread::scope(|s| {
        for i in 0..workers {
            let (done, lat) = (&done, &lat);
            s.spawn(move || {
                let (l, st, co) = fake_worker(url, i, nice, tests as u64, done);
                let mut g = lat.lock().unwrap();
                g.0.extend(l);
                g.1.extend(st);
                g.2.extend(co);
            });
        }
    });
    let total = t0.elapsed().as_secs_f64();
    let (mut l, mut s, mut c) = lat.into_inner().unwrap();
    let who = if nice == 0 {
        "at the server's priority".to_string()
    } else {
        format!("at nice {nice}, as if on their own machines")
    };
    println!("drain: {tests} tests, {workers} fake workers {who}: submitted in {submitted_s:.2} s; all completed in {total:.2} s = {:.0} lifecycles/s", tests as f64 / total);
    let samples = [&mut l, &mut s, &mut c];
    for (((name, route), xs), before) in ROUTES.iter().zip(samples).zip(&before) {
        let server = server_side(before, &server_buckets(url, route));
        println!("  {name:<8} {}; {server}", ms(xs));
    }
}

/// A route's cumulative latency histogram from `/metrics`: (bound s, count).
type Buckets = Vec<(f64, f64)>;

fn server_buckets(url: &str, route: &str) -> Buckets {
    let text = ureq::get(&format!("{url}/metrics"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("lbsim_http_request_duration_seconds_bucket"))
        .filter(|l| l.contains(&format!("route=\"{route}\"")))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, l.rsplit(' ').next()?.parse().ok()?))
        })
        .collect()
}

/// The server's own view of the requests between two histogram snapshots
/// (without the clients' time on the CPU or in the socket): the bucket
/// bounds holding the 50th and 99th percentiles. Lease long-polls that
/// waited out their 0.5 s and got 204 count here too.
fn server_side(before: &Buckets, after: &Buckets) -> String {
    let count = |i: usize| after[i].1 - before.get(i).map_or(0.0, |b| b.1);
    let total = if after.is_empty() {
        0.0
    } else {
        count(after.len() - 1)
    };
    let bound = |p: f64| {
        (0..after.len())
            .find(|&i| count(i) >= p * total)
            .map_or(f64::NAN, |i| after[i].0 * 1e3)
    };
    format!(
        "server side p50 <= {} ms, p99 <= {} ms",
        bound(0.5),
        bound(0.99)
    )
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
    for nice in [0, 10] {
        let (server0, bench0) = (cpu_s(child.id()), cpu_s(std::process::id()));
        drain(&url, tests, 64, nice);
        println!(
            "  CPU: server {:.2} s, the 64 fake workers {:.2} s",
            cpu_s(child.id()) - server0,
            cpu_s(std::process::id()) - bench0
        );
    }
    heartbeats(&url, hb_workers, hb_s);
    let c = Client::new(&url, None);
    for _ in 0..(stored - 2 * tests) / 1000 {
        c.submit_tests(vec![TestRequest::default(); 1000]).unwrap();
    }
    println!(
        "memory: {stored} tests stored ({} workers registered): server RSS {:.0} MB",
        hb_workers + 128,
        rss_mb(child.id())
    );
    let db_mb = std::fs::metadata(dir.join("speed.db")).map_or(0, |m| m.len()) as f64 / 1e6;
    println!("store: {db_mb:.1} MB on disk (plus WAL)");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
