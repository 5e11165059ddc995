//! The floor under any M/M/c simulation built on lbsim's random numbers: a
//! bare first-come-first-served loop with nothing but a binary heap of
//! departures, a FIFO of waiting arrival times and two exponential draws per
//! job from lbsim's own seeded streams (ChaCha8, `libm`). No balancer, no
//! metrics beyond two sums, no output files.
//!
//! It exists to put the SimPy comparison of issue 5 in proportion:
//! `scripts/simpy_ratio.py` runs SimPy, this loop and lbsim on the same
//! model and prints all three. Same interface as
//! `../shared/bench/mmc_simpy.py`:
//!
//! ```text
//! cargo run --release --example mmc_floor -- LAMBDA MU C N_JOBS SEED
//! ```
//!
//! Prints `mean_wait mean_system jobs wall_seconds`.

// A measurement prints its figures (clippy.toml bans that in the CLI).
#![allow(clippy::disallowed_macros)]

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use lbsim::sim::{RngStreams, Stream};

fn arg<T: std::str::FromStr>(args: &[String], i: usize, name: &str) -> T {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        eprintln!("usage: mmc_floor LAMBDA MU C N_JOBS SEED ({name} missing or invalid)");
        std::process::exit(2)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lambda: f64 = arg(&args, 1, "LAMBDA");
    let mu: f64 = arg(&args, 2, "MU");
    let servers: usize = arg(&args, 3, "C");
    let jobs: u64 = arg(&args, 4, "N_JOBS");
    let seed: u64 = arg(&args, 5, "SEED");

    // Wall time is what this program measures; it is not a simulation input.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let streams = RngStreams::new(seed);
    let mut arrivals = streams.stream(Stream::Arrivals);
    let mut services = streams.stream(Stream::Durations);
    let micros = |s: f64| (s * 1e6) as u64;

    let mut departures: BinaryHeap<Reverse<(u64, u64)>> = BinaryHeap::new();
    let mut waiting: VecDeque<u64> = VecDeque::new();
    let mut idle = servers;
    let mut submitted = 0u64;
    let mut next_arrival = micros(arrivals.exponential(1.0 / lambda));
    let (mut wait_us, mut system_us) = (0u64, 0u64);
    loop {
        let next_departure = departures.peek().map_or(u64::MAX, |d| d.0 .0);
        if submitted < jobs && next_arrival <= next_departure {
            let now = next_arrival;
            submitted += 1;
            next_arrival = now + micros(arrivals.exponential(1.0 / lambda));
            if idle > 0 {
                idle -= 1;
                departures.push(Reverse((now + micros(services.exponential(1.0 / mu)), now)));
            } else {
                waiting.push_back(now);
            }
        } else if let Some(Reverse((now, arrived))) = departures.pop() {
            system_us += now - arrived;
            match waiting.pop_front() {
                Some(queued) => {
                    wait_us += now - queued;
                    let end = now + micros(services.exponential(1.0 / mu));
                    departures.push(Reverse((end, queued)));
                }
                None => idle += 1,
            }
        } else {
            break;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let n = jobs.max(1) as f64;
    println!(
        "{:.6} {:.6} {} {:.4}",
        wait_us as f64 / 1e6 / n,
        system_us as f64 / 1e6 / n,
        jobs,
        wall
    );
}
