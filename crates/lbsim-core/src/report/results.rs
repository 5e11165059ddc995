//! The results document of one run (`--output results.json`) as a type:
//! `report` writes it, `compare`, `visualize` and the dashboards read it.
//! Fields are in the order of the file: the reference's `configuration`,
//! `metrics` and `time_series`, then lbsim's extensions.
//!
//! ```
//! use lbsim_core::engine::{self, NoObserver};
//! use lbsim_core::report::ResultsDoc;
//! use lbsim_core::scenario::StressOptions;
//!
//! let scenario = StressOptions { tests: 50, ..Default::default() }.to_scenario()?;
//! let out = engine::run(&scenario, &mut NoObserver)?;
//! let doc = ResultsDoc::from_run(&out); // then `doc.write_file(path)?`
//! let text = doc.to_json();
//! let back = ResultsDoc::parse("results.json", &text)?; // or `ResultsDoc::read(path)?`
//! assert_eq!(back.metrics.total_tests, 50);
//! assert_eq!(back.to_json(), text);
//! # Ok::<(), lbsim_core::Error>(())
//! ```

use super::json::{parse_json, read_json, to_pretty_json, write_json, write_json_file};
use crate::balancer::policy::SchedulerName;
use crate::engine::{RunInfo, RunOutput};
use crate::error::Result;
use crate::metrics::{Distributions, Metrics, TimeSeries, WorkerRow};
use crate::scenario::{Arrivals, Churn, LoadModel, TestProfile, WorkerProfile};
pub use crate::workload::trace::TraceSection;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One run's results, as written to and read from `--output`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsDoc {
    /// The lbsim version that wrote the file (`CARGO_PKG_VERSION`).
    pub lbsim_version: String,
    /// The scenario's name in its config file; `null` for `stress`, `spike`
    /// and `replay`, which run no named scenario.
    pub scenario: Option<String>,
    /// The root seed: the same seed and configuration give the same file.
    pub seed: u64,
    /// The scheduling policy that made every assignment.
    pub scheduler: SchedulerName,
    /// What was simulated (the reference's section, plus lbsim's settings).
    pub configuration: Configuration,
    /// The run's summary: counts, rates (percent or fractions, as each
    /// field says), latencies in simulated seconds, throughput in tests per
    /// simulated second.
    pub metrics: Metrics,
    /// Per-bucket series over simulated time, for charts.
    pub time_series: TimeSeries,
    /// One row per worker that was ever in the pool, in join order.
    pub workers: Vec<WorkerRow>,
    /// How the run went as a process: why and when it ended, events handled.
    pub run: RunInfo,
    /// Quantile points of the latency, wait and turnaround distributions
    /// (`[quantile, seconds]` at 0, 0.01, … 1), for a real CDF; written for
    /// every run, absent from files of an older lbsim (read as empty).
    #[serde(default, skip_serializing_if = "Distributions::is_empty")]
    pub distributions: Distributions,
    /// The load spikes' windows, for charts to shade; absent (empty) when
    /// the arrivals have no spikes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spikes: Vec<SpikeWindow>,
    /// What was replayed, for `lbsim replay` only; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSection>,
    /// Only for `lbsim load`: a run measured on a live coordinator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveSection>,
}

/// The simulated configuration: the reference's fields first (`workers`,
/// `tests`, `duration`, `burst_mode`, `dynamic_workers`, `timestamp`), then
/// the scenario's own sections.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// Workers in the pool at the start.
    pub workers: u32,
    /// Tests submitted.
    pub tests: u64,
    /// The submission window, simulated seconds.
    pub duration: f64,
    /// True when tests arrive in bursts (the reference's burst mode).
    pub burst_mode: bool,
    /// True when workers join and leave during the run.
    pub dynamic_workers: bool,
    /// Always `null`: a wall-clock date would make two identical runs
    /// differ, and a simulated run has no calendar date.
    pub timestamp: Option<String>,
    /// One line on what the scenario simulates.
    pub description: String,
    /// The run stops here even if tests are still live, simulated seconds.
    pub horizon: f64,
    /// How worker capabilities were drawn.
    pub worker_profile: WorkerProfile,
    /// How test requirements and run times were drawn.
    pub test_profile: TestProfile,
    /// When tests arrived within the window.
    pub arrivals: Arrivals,
    /// Workers joining and leaving.
    pub churn: Churn,
    /// Background load drift and thermal events.
    pub load: LoadModel,
}

/// One load spike's window, simulated seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpikeWindow {
    /// When the rate starts to change (ramp included).
    pub start: f64,
    /// When the rate is back to its base.
    pub end: f64,
    /// The rate multiplier at the top (1 = no change, 0 = a lull).
    pub multiplier: f64,
}

/// Where and how `lbsim load` measured a live run (its metrics come from
/// the coordinator's own records, not from a simulation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveSection {
    /// The coordinator's base URL.
    pub url: String,
    /// Scenario seconds played per wall second.
    pub speed: f64,
    /// True when `load` ran the scenario's pool as embedded fake workers.
    pub embedded_workers: bool,
    /// What the figures were computed from.
    pub source: String,
}

impl ResultsDoc {
    /// The document of a finished run (no trace section: a replay sets
    /// [`ResultsDoc::trace`] itself).
    pub fn from_run(out: &RunOutput) -> ResultsDoc {
        let s = &out.scenario;
        ResultsDoc {
            lbsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: s.name.clone(),
            seed: s.seed,
            scheduler: s.scheduler,
            configuration: Configuration {
                workers: s.workers,
                tests: s.tests,
                duration: s.duration_s,
                burst_mode: s.is_burst(),
                dynamic_workers: s.is_dynamic(),
                timestamp: None,
                description: s.description.clone(),
                horizon: s.horizon_s,
                worker_profile: s.worker_profile.clone(),
                test_profile: s.test_profile.clone(),
                arrivals: s.arrivals.clone(),
                churn: s.churn.clone(),
                load: s.load.clone(),
            },
            metrics: out.metrics.clone(),
            time_series: out.series.clone(),
            workers: out.workers.clone(),
            run: out.run.clone(),
            distributions: out.distributions.clone(),
            spikes: (s.arrivals.spikes().iter())
                .map(|k| SpikeWindow {
                    start: k.start_s,
                    end: k.end_s(),
                    multiplier: k.multiplier,
                })
                .collect(),
            trace: None,
            live: None,
        }
    }

    /// The file's text: floats rounded to `FLOAT_DECIMALS` places, two-space
    /// indentation, newline-ended.
    pub fn to_json(&self) -> String {
        to_pretty_json(self)
    }

    /// Writes the file's text to `writer`.
    pub fn write_to(&self, writer: impl std::io::Write) -> std::io::Result<()> {
        write_json(writer, self)
    }

    /// Writes the file at `path`, whole or not at all.
    pub fn write_file(&self, path: &Path) -> Result<()> {
        write_json_file(path, self)
    }

    /// Reads a results file; one that is not a results document (broken
    /// JSON, a missing field, a wrong type) is bad input naming the file and
    /// the field path.
    pub fn read(path: &Path) -> Result<ResultsDoc> {
        read_json(path)
    }

    /// [`ResultsDoc::read`] from text already read (`file` names it in errors).
    pub fn parse(file: &str, text: &str) -> Result<ResultsDoc> {
        parse_json(file, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{self, NoObserver};
    use crate::scenario::presets::spike_scenario;
    use crate::scenario::StressOptions;
    use crate::workload::trace::{replay_scenario, ReplayOptions, Trace, TraceArrivals};

    fn stress_run() -> RunOutput {
        let scenario = StressOptions {
            workers: 4,
            tests: 60,
            duration_s: 20.0,
            burst: true,
            dynamic: true,
            seed: 3,
            ..Default::default()
        }
        .to_scenario()
        .unwrap();
        engine::run(&scenario, &mut NoObserver).unwrap()
    }

    /// Written, read back and written again: the same bytes, and the same
    /// document as reading the first text.
    fn round_trip(doc: &ResultsDoc) -> ResultsDoc {
        let text = doc.to_json();
        let back = ResultsDoc::parse("r.json", &text).unwrap();
        assert_eq!(back.to_json(), text);
        assert_eq!(ResultsDoc::parse("r.json", &back.to_json()).unwrap(), back);
        back
    }

    #[test]
    fn a_run_round_trips() {
        let out = stress_run();
        let doc = ResultsDoc::from_run(&out);
        let back = round_trip(&doc);
        assert_eq!(back.metrics.total_tests, 60);
        assert_eq!(back.configuration.timestamp, None);
        assert!(back.configuration.burst_mode && back.configuration.dynamic_workers);
        assert_eq!(back.configuration.test_profile, out.scenario.test_profile);
        assert_eq!(back.workers.len(), out.workers.len());
        let busy = &back.time_series.resources.worker_busy;
        assert_eq!(busy.workers, out.series.resources.worker_busy.workers);
        assert_eq!(back.run, out.run);
        let d = &back.distributions;
        assert_eq!(
            (d.latency.len(), d.wait.len(), d.turnaround.len()),
            (101, 101, 101)
        );
        assert_eq!(d.latency[50], (0.5, back.metrics.latency.p50));
        assert_eq!(d.latency[100], (1.0, back.metrics.max_latency));
        assert!(back.spikes.is_empty() && back.trace.is_none());
        let text = doc.to_json();
        assert!(!text.contains("\"spikes\"") && !text.contains("\"trace\""));
        let mut bytes = Vec::new();
        doc.write_to(&mut bytes).unwrap();
        assert_eq!(bytes, text.as_bytes());
    }

    #[test]
    fn a_spike_run_keeps_its_windows() {
        let options = StressOptions {
            workers: 5,
            tests: 200,
            duration_s: 40.0,
            seed: 1,
            ..Default::default()
        };
        let scenario = spike_scenario(&options, &Default::default()).unwrap();
        let out = engine::run(&scenario, &mut NoObserver).unwrap();
        let doc = ResultsDoc::from_run(&out);
        assert_eq!(
            doc.spikes,
            [SpikeWindow {
                start: 16.0,
                end: 24.0,
                multiplier: crate::scenario::presets::SPIKE_MULTIPLIER
            }]
        );
        let text = doc.to_json();
        assert!(text.ends_with(&format!(
            "  \"spikes\": [\n    {{\n      \"start\": 16.0,\n      \"end\": 24.0,\n      \"multiplier\": {:?}\n    }}\n  ]\n}}\n",
            crate::scenario::presets::SPIKE_MULTIPLIER
        )));
        assert_eq!(round_trip(&doc).spikes, doc.spikes);
    }

    #[test]
    fn a_replay_carries_its_trace_section_last() {
        // Tests run in the crate's directory; the fixture is the workspace's.
        let trace = Trace::load(Path::new("../../tests/data/tiny.swf"), None).unwrap();
        let options = ReplayOptions {
            workers: None,
            scheduler: SchedulerName::DEFAULT,
            seed: 1,
            time_scale: 0.5,
            load_factor: 2.0,
            cluster: None,
            balancing: Default::default(),
        };
        let replay = replay_scenario(&trace, &options).unwrap();
        let (scenario, section, jobs) = (replay.scenario, replay.section, replay.jobs);
        let plan = section.cluster.clone();
        let arrivals = Box::new(TraceArrivals::new(jobs));
        let out = engine::run_with(&scenario, arrivals, &mut NoObserver).unwrap();
        let mut doc = ResultsDoc::from_run(&out);
        doc.trace = Some(section);
        let text = doc.to_json();
        let trace_at = text.find("\n  \"trace\": {\n    \"file\": \"../../tests/data/tiny.swf\",\n    \"format\": \"swf\",\n").unwrap();
        assert!(text.find("\n  \"run\": {").unwrap() < trace_at);
        let back = round_trip(&doc);
        let t = back.trace.unwrap();
        assert_eq!(
            (t.records, t.time_scale, t.load_factor),
            (trace.records, 0.5, 2.0)
        );
        assert_eq!(t.cluster, plan);
        assert_eq!(t.unusable, t.unusable_reasons.values().sum::<u64>());
    }

    #[test]
    fn a_broken_or_mistyped_file_is_bad_input_naming_the_field() {
        let text = ResultsDoc::from_run(&stress_run()).to_json();
        let err = |text: &str| {
            let e = ResultsDoc::parse("r.json", text).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{e}");
            let message = e.to_string();
            assert_eq!(message.lines().count(), 1, "{message}");
            message
        };
        let cut = err(&text[..text.len() / 2]);
        assert!(cut.starts_with("r.json: line "), "{cut}");
        assert!(cut.contains(": not valid JSON: EOF while parsing"), "{cut}");
        let mistyped = text.replacen("\"total_tests\": 60", "\"total_tests\": \"60\"", 1);
        let e = err(&mistyped);
        assert!(e.starts_with("r.json: metrics.total_tests (line "), "{e}");
        assert!(
            e.ends_with("invalid type: string \"60\", expected u64"),
            "{e}"
        );
        let renamed = text.replacen("\"end_reason\"", "\"end\"", 1);
        let e = err(&renamed);
        assert!(e.starts_with("r.json: run (line "), "{e}");
        assert!(e.ends_with("missing field `end_reason`"), "{e}");
        let e = err(&text.replacen("\"status\": \"active\"", "\"status\": \"asleep\"", 1));
        assert!(e.starts_with("r.json: workers["), "{e}");
        assert!(e.contains("].status (line "), "{e}");
        let e = err("{\"benchmark_results\": []}");
        assert!(e.starts_with("r.json: top level (line 1"), "{e}");
        assert!(e.contains("missing field `lbsim_version`"), "{e}");
    }

    #[test]
    fn a_file_of_an_older_lbsim_without_the_resource_series_still_reads() {
        let doc = ResultsDoc::from_run(&stress_run());
        let mut v: serde_json::Value = serde_json::from_str(&doc.to_json()).unwrap();
        let series = v["time_series"].as_object_mut().unwrap();
        for k in [
            "arrivals",
            "memory_utilization",
            "cuda_utilization",
            "stranded_memory",
            "worker_busy",
        ] {
            series.remove(k);
        }
        v.as_object_mut().unwrap().remove("distributions");
        let back = ResultsDoc::parse("old.json", &v.to_string()).unwrap();
        assert!(back.distributions.is_empty());
        assert!(!back.to_json().contains("\"distributions\""));
        assert!(back.time_series.arrivals.is_empty());
        assert_eq!(back.time_series.resources, Default::default());
        assert_eq!(
            back.time_series.throughput.len(),
            doc.time_series.throughput.len()
        );
    }
}
