//! The readable summary printed when no `--output` is given.

use crate::engine::{EndReason, RunInfo, RunOutput};
use crate::metrics::Metrics;
use crate::scenario::Scenario;

/// A few lines a person can read at a glance.
pub fn summary(out: &RunOutput) -> String {
    let m = &out.metrics;
    [
        headline(&out.scenario),
        ended(&out.run),
        tests(m),
        latency(m),
        turnaround(m),
        throughput(m),
        workers(m),
        utilisation(m),
    ]
    .concat()
}

/// `lbsim NAME: W workers, T tests over D s[, bursts][, dynamic workers] | scheduler S | seed N`.
fn headline(s: &Scenario) -> String {
    let title = s.name.as_deref().unwrap_or("stress");
    let bursts = if s.is_burst() { ", bursts" } else { "" };
    let dynamic = if s.is_dynamic() {
        ", dynamic workers"
    } else {
        ""
    };
    format!(
        "lbsim {title}: {} workers, {} tests over {} s{bursts}{dynamic} | scheduler {} | seed {}\n",
        s.workers, s.tests, s.duration_s, s.scheduler, s.seed
    )
}

fn ended(run: &RunInfo) -> String {
    let end = match run.end_reason {
        EndReason::AllFinal => "every test final",
        EndReason::Horizon => "stopped at the horizon",
    };
    format!(
        "  ended at {:.3} s simulated ({end}), {} events\n",
        run.end_time, run.events
    )
}

fn tests(m: &Metrics) -> String {
    format!(
        "  tests      {} submitted, {} assigned ({:.1} %), {} completed, {} failed, {} rejected, {} pending, {} running\n",
        m.total_tests, m.assigned_tests, m.success_rate, m.completed_tests, m.failed_tests, m.rejected_tests,
        m.pending_tests, m.running_tests
    )
}

fn latency(m: &Metrics) -> String {
    format!(
        "  latency    avg {:.3} s, p50 {:.3} s, p95 {:.3} s, p99 {:.3} s, max {:.3} s\n",
        m.avg_latency, m.latency.p50, m.latency.p95, m.latency.p99, m.max_latency
    )
}

fn turnaround(m: &Metrics) -> String {
    format!(
        "  turnaround avg {:.3} s, p95 {:.3} s; attempts avg {:.2}; requeued {}\n",
        m.turnaround.avg, m.turnaround.p95, m.avg_scheduling_attempts, m.requeued_tests
    )
}

fn throughput(m: &Metrics) -> String {
    format!(
        "  throughput peak {:.3}/s, avg {:.3}/s scheduled; {:.3}/s completed\n",
        m.peak_throughput, m.avg_throughput, m.avg_completion_throughput
    )
}

fn workers(m: &Metrics) -> String {
    format!(
        "  workers    {} at end ({} joined, {} drained, {} failed); {:.0} % used; fairness {:.3}; stddev {:.2}, range {}\n",
        m.final_worker_count,
        m.workers_joined,
        m.workers_drained,
        m.workers_failed,
        m.worker_utilization * 100.0,
        m.jain_fairness,
        m.worker_assignment_stddev,
        m.worker_assignment_range
    )
}

fn utilisation(m: &Metrics) -> String {
    format!(
        "  utilisation cpu {:.1} %, memory {:.1} %, cuda {:.1} %\n",
        m.cpu_utilization * 100.0,
        m.memory_utilization * 100.0,
        m.cuda_utilization * 100.0
    )
}

/// The `--stats` lines: how fast the simulation ran, and (where the system
/// tells) the process's peak resident memory.
pub(crate) fn run_stats(
    run: &crate::engine::RunInfo,
    wall_s: f64,
    peak_memory: Option<u64>,
) -> String {
    let wall = wall_s.max(1e-9);
    let memory = peak_memory.map_or(String::new(), |bytes| {
        format!("; peak memory {} MB", bytes.div_ceil(1_000_000))
    });
    format!(
        "stats: {} events in {:.3} s wall ({:.0} events/s); {:.1} s simulated, {:.0}x faster than real time; {} scheduling passes, {} decisions{memory}\n",
        run.events,
        wall_s,
        run.events as f64 / wall,
        run.end_time,
        run.end_time / wall,
        run.scheduling_passes,
        run.decisions
    )
}
