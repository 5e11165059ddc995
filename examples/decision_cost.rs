//! One scheduling decision's cost in instructions, on the criterion decision
//! benches' pool (`lbsim::balancer::decision_bench`), for callgrind:
//!
//! ```text
//! cargo build --release --example decision_cost
//! valgrind --tool=callgrind target/release/examples/decision_cost least_loaded 10000 0
//! valgrind --tool=callgrind target/release/examples/decision_cost least_loaded 10000 20000
//! ```
//!
//! The difference of the two counts over 20,000 is the cost of one decision
//! (the first run counts building the pool). Arguments: policy id, workers,
//! decisions.

// Usage errors go to stderr (clippy.toml bans that in the CLI).
#![allow(clippy::disallowed_macros)]

use lbsim::balancer::decision_bench::DecisionBench;
use lbsim::balancer::policy::SCHEDULERS;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy, workers, decisions] = args.as_slice() else {
        eprintln!("usage: decision_cost POLICY WORKERS DECISIONS");
        return ExitCode::from(2);
    };
    let Some(info) = SCHEDULERS.iter().find(|i| i.id == policy.as_str()) else {
        eprintln!("decision_cost: unknown policy {policy:?}");
        return ExitCode::from(2);
    };
    let (Ok(workers), Ok(decisions)) = (workers.parse::<u32>(), decisions.parse::<u64>()) else {
        eprintln!("decision_cost: WORKERS and DECISIONS are whole numbers");
        return ExitCode::from(2);
    };
    let mut bench = DecisionBench::new(info.name, workers);
    for _ in 0..decisions {
        bench.step();
    }
    std::hint::black_box(&bench.balancer);
    ExitCode::SUCCESS
}
