//! `lbsim stress`: one stress test on the reference's defaults.

use super::args::{CommonArgs, StressArgs};
use crate::engine::{self, Fanout, RunOutput};
use crate::error::Result;
use crate::report::{self, DecisionLog, TestCsv};
use crate::scenario::{EnvSettings, Scenario, StressOptions};
use crate::workload::ArrivalSource;

pub fn run(common: &CommonArgs, args: &StressArgs) -> Result<()> {
    let scenario = scenario(common, args, &EnvSettings::from_env()?)?;
    let out = run_and_write(&scenario, common)?;
    super::print_out(&report::summary(&out))
}

/// The stress configuration the flags describe (before the balancing flags,
/// which `run_and_write` applies): the reference's defaults, overridden.
pub fn scenario(common: &CommonArgs, args: &StressArgs, env: &EnvSettings) -> Result<Scenario> {
    let defaults = StressOptions::default();
    StressOptions {
        workers: common.workers.unwrap_or(defaults.workers),
        tests: common.tests.unwrap_or(defaults.tests),
        duration_s: common
            .duration
            .or(env.default_duration_s)
            .unwrap_or(defaults.duration_s),
        burst: args.burst,
        dynamic: args.dynamic,
        seed: common.seed.unwrap_or(defaults.seed),
        scheduler: common.scheduler.unwrap_or(defaults.scheduler),
    }
    .to_scenario()
}

/// Runs a scenario, streaming the per-test CSV and the decision log if
/// asked, and writes the JSON. Shared by every command that runs one
/// simulation. Files appear only if the whole run succeeds.
pub fn run_and_write(scenario: &Scenario, common: &CommonArgs) -> Result<RunOutput> {
    run_and_write_with(scenario, None, common, |_| {})
}

/// `run_and_write` with any arrival source (`None`: the scenario's
/// synthetic workload); `extend` adds sections to the results document.
pub fn run_and_write_with(
    scenario: &Scenario,
    arrivals: Option<Box<dyn ArrivalSource + '_>>,
    common: &CommonArgs,
    extend: impl FnOnce(&mut report::ResultsDoc),
) -> Result<RunOutput> {
    let scenario = &super::balancing::apply(scenario, common)?;
    EnvSettings::from_env()?.check_workers("this run", scenario.peak_workers())?;
    let mut csv = common.csv.as_deref().map(TestCsv::create).transpose()?;
    let mut decisions = common
        .decisions
        .as_deref()
        .map(|p| DecisionLog::create(p, scenario.scheduler))
        .transpose()?;
    let mut fanout = Fanout::default();
    if let Some(c) = csv.as_mut() {
        fanout.push(c);
    }
    if let Some(d) = decisions.as_mut() {
        fanout.push(d);
    }
    let clock = WallClock::start();
    let out = match arrivals {
        Some(a) => engine::run_with(scenario, a, &mut fanout)?,
        None => engine::run(scenario, &mut fanout)?,
    };
    if common.stats {
        let wall = clock.seconds();
        eprint!("{}", report::run_stats(&out.run, wall, peak_memory_bytes()));
    }
    if let Some(c) = csv {
        c.commit()?;
    }
    if let Some(d) = decisions {
        d.commit()?;
    }
    if let Some(path) = &common.output {
        let mut doc = report::ResultsDoc::from_run(&out);
        extend(&mut doc);
        doc.write_file(path)?;
    }
    Ok(out)
}

/// The process's peak resident memory, for `--stats` only: Linux reports it
/// as `VmHWM` in `/proc/self/status`; elsewhere it is left out.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let mut words = line["VmHWM:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next()? {
        "kB" => Some(value * 1024),
        _ => None,
    }
}

/// Wall time of a run, for `--stats` only: it never reaches an output file,
/// so results stay byte-identical.
struct WallClock(std::time::Instant);

impl WallClock {
    #[allow(clippy::disallowed_methods)]
    fn start() -> WallClock {
        WallClock(std::time::Instant::now())
    }

    fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_read_from_vm_hwm_in_kib() {
        let status =
            "Name:\tlbsim\nVmPeak:\t  200000 kB\nVmHWM:\t   104344 kB\nVmRSS:\t 90000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(104_344 * 1024));
        assert_eq!(parse_vm_hwm("VmRSS:\t1 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t12 MB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\tlots kB\n"), None);
    }
}
