//! A prepared run: the engine with the arrival source (synthetic or a
//! trace), the per-test CSV and decision log streamed, the results JSON
//! written. Nothing is printed; the caller prints what it wants.

use super::wall_clock::WallClock;
use super::Outputs;
use crate::engine::{Fanout, Observer, RunOutput, Simulation};
use crate::error::Result;
use crate::report::{self, DecisionLog, ResultsDoc, TestCsv};
use crate::scenario::Scenario;
use crate::sim::RngStreams;
use crate::workload::trace::{TraceArrivals, TraceJob, TraceSection};
use crate::workload::{ArrivalSource, SyntheticArrivals};

/// A validated run, ready to go (see `RunRequest::prepare`).
#[derive(Clone, Debug)]
pub struct PreparedRun {
    pub(super) scenario: Scenario,
    pub(super) replay: Option<Replayed>,
    pub(super) outputs: Outputs,
    pub(super) config_file: Option<String>,
}

/// A trace's jobs and its report section.
#[derive(Clone, Debug)]
pub(super) struct Replayed {
    pub(crate) section: TraceSection,
    pub(crate) jobs: Vec<TraceJob>,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// What the run produced.
    pub output: RunOutput,
    /// The `--stats` line (events, wall time, speed, peak memory), if asked.
    pub stats: Option<String>,
}

impl PreparedRun {
    /// The scenario that will run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// A replay's trace section (what was read and on which cluster).
    pub fn trace(&self) -> Option<&TraceSection> {
        self.replay.as_ref().map(|r| &r.section)
    }

    /// The config file a named scenario came from.
    pub fn config_file(&self) -> Option<&str> {
        self.config_file.as_deref()
    }

    /// Runs the scenario, handing every fact to `observer` too, and writes
    /// the outputs; files appear only if the whole run succeeds.
    pub fn run(&self, observer: &mut dyn Observer) -> Result<RunReport> {
        let report = self.run_driven(observer, &mut |_| Ok(Drive::Finish))?;
        report.ok_or_else(|| crate::Error::Run("a run without a driver was stopped".into()))
    }

    /// The arrival source of this run: the scenario's synthetic workload,
    /// or the trace's jobs. A live view reads it ahead for submission times.
    pub fn arrivals(&self) -> Box<dyn ArrivalSource + '_> {
        match &self.replay {
            Some(r) => Box::new(TraceArrivals::new(r.jobs.clone())),
            None => {
                let streams = RngStreams::new(self.scenario.seed);
                Box::new(SyntheticArrivals::new(&self.scenario, &streams))
            }
        }
    }

    /// Like `run`, but hands the simulation to `drive` first, to step it
    /// as it likes (a live view pacing it); whatever `drive` leaves is run
    /// to the end, so the outputs are those of `run`, byte for byte. If
    /// `drive` says [`Drive::Stop`], nothing is written and `None` returns.
    pub fn run_driven(
        &self,
        observer: &mut dyn Observer,
        drive: &mut dyn FnMut(&mut Simulation<'_>) -> Result<Drive>,
    ) -> Result<Option<RunReport>> {
        let outputs = &self.outputs;
        let mut csv = outputs
            .tests_csv
            .as_deref()
            .map(TestCsv::create)
            .transpose()?;
        let mut decisions = outputs
            .decisions
            .as_deref()
            .map(|p| DecisionLog::create(p, self.scenario.scheduler))
            .transpose()?;
        let mut fanout = Fanout::default();
        if let Some(c) = csv.as_mut() {
            fanout.push(c);
        }
        if let Some(d) = decisions.as_mut() {
            fanout.push(d);
        }
        fanout.push(observer);
        let clock = WallClock::start();
        let mut sim = Simulation::with_arrivals(&self.scenario, self.arrivals(), &mut fanout);
        if drive(&mut sim)? == Drive::Stop {
            return Ok(None);
        }
        let output = sim.finish()?;
        let wall_s = clock.seconds();
        if let Some(c) = csv {
            c.commit()?;
        }
        if let Some(d) = decisions {
            d.commit()?;
        }
        if let Some(path) = &outputs.results {
            results_doc(&output, self.trace()).write_file(path)?;
        }
        let stats = outputs
            .stats
            .then(|| report::run_stats(&output.run, wall_s, peak_memory_bytes()));
        Ok(Some(RunReport { output, stats }))
    }
}

/// What a driver of `PreparedRun::run_driven` wants once it hands back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drive {
    /// Run what is left and write the outputs.
    Finish,
    /// Stop here: no output is written.
    Stop,
}

/// The results document: the run's, plus a replay's trace section. The one
/// place a run's document is put together.
fn results_doc(output: &RunOutput, trace: Option<&TraceSection>) -> ResultsDoc {
    let mut doc = ResultsDoc::from_run(output);
    doc.trace = trace.cloned();
    doc
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
