//! A request to a validated scenario: each source built once with the
//! overrides in place, then the run's checks.

use super::execute::{PreparedRun, Replayed};
use super::overrides::{ALL, BALANCING};
use super::{ClusterSource, Overrides, RunRequest, Source, TraceSource};
use crate::error::{Error, Result};
use crate::scenario::config::SizeOrigins;
use crate::scenario::presets::spike_scenario;
use crate::scenario::{Config, EnvSettings, Scenario};
use crate::workload::trace::{junit, replay_scenario, ClusterPool, ReplayOptions, Trace};

/// A source built: its scenario, a trace's jobs, the config file read and
/// what set a config scenario's sizes (to blame a size refused later).
pub(super) struct Built {
    pub(crate) scenario: Scenario,
    pub(crate) replay: Option<Replayed>,
    pub(crate) config_file: Option<String>,
    pub(crate) sizes: Option<SizeOrigins>,
}

impl Built {
    fn plain(scenario: Scenario) -> Built {
        Built {
            scenario,
            replay: None,
            config_file: None,
            sizes: None,
        }
    }
}

pub(super) fn prepare(request: &RunRequest, env: &EnvSettings) -> Result<PreparedRun> {
    let built = build(request, env).map_err(|e| as_flag(e, &request.source))?;
    env.check_workers("this run", built.scenario.peak_workers())?;
    request.outputs.check()?;
    let tests = match request.source {
        Source::Stress { .. } | Source::Spike => "--tests",
        _ => "tests",
    };
    super::memory::check(&built.scenario, tests).map_err(|e| match &built.sizes {
        Some(sizes) => sizes.blame(e).unwrap_or_else(|e| e),
        None => e,
    })?;
    Ok(PreparedRun {
        scenario: built.scenario,
        replay: built.replay,
        outputs: request.outputs.clone(),
        config_file: built.config_file,
    })
}

/// A field error of a scenario built from flags names the flag: the stress
/// sizes are `--workers`, `--tests` and `--duration`, and the spike's
/// window is cut from `--duration`.
fn as_flag(e: Error, source: &Source) -> Error {
    let Error::InvalidInput { flag, message } = e else {
        return e;
    };
    match (source, flag.as_str()) {
        (Source::Stress { .. } | Source::Spike, "workers" | "tests" | "duration") => {
            Error::invalid(format!("--{flag}"), message)
        }
        (Source::Spike, f) if f.starts_with("arrivals.spikes") => Error::invalid(
            "--duration",
            format!("too short for the spike window ({f}: {message})"),
        ),
        _ => Error::InvalidInput { flag, message },
    }
}

/// The source's scenario with the overrides applied while it is built.
pub(super) fn build(request: &RunRequest, env: &EnvSettings) -> Result<Built> {
    let o = &request.overrides;
    match &request.source {
        Source::Stress { burst, dynamic } => o
            .stress(*burst, *dynamic, env)
            .scenario_with(&o.balancing)
            .map(Built::plain),
        Source::Spike => spike_scenario(&o.stress(true, true, env), &o.balancing).map(Built::plain),
        Source::Scenario { name, config } => {
            let config = Config::load(config.as_deref(), env.config_path.as_deref())?;
            let env_s = env.default_duration_s;
            Ok(Built {
                scenario: config.scenario_under(name, o, env_s)?,
                replay: None,
                sizes: config.size_origins(name, o, env_s),
                config_file: Some(config.file),
            })
        }
        Source::Trace(trace) => replay(trace, o, env),
        Source::Benchmark(cell) => {
            let why = "a benchmark cell sets it itself";
            o.refuse(&["--workers", "--tests", "--duration", "--scheduler"], why)?;
            o.refuse(BALANCING, why)?;
            cell.to_scenario(o.seed()).map(Built::plain)
        }
        Source::Ready(scenario) => {
            o.refuse(
                ALL,
                "a ready scenario takes no overrides: build them into it",
            )?;
            scenario.validate()?;
            Ok(Built::plain((**scenario).clone()))
        }
    }
}

/// A trace read and made ready, on its own cluster or a config's pool.
fn replay(source: &TraceSource, o: &Overrides, env: &EnvSettings) -> Result<Built> {
    o.refuse(&["--tests"], "replay takes its tests from the trace")?;
    o.refuse(
        &["--duration"],
        "replay takes its times from the trace (see --time-scale)",
    )?;
    let trace = load(source, o.seed())?;
    let cluster = source
        .cluster
        .as_ref()
        .map(|c| cluster_pool(c, env))
        .transpose()?;
    let options = ReplayOptions {
        workers: o.workers,
        scheduler: o.scheduler(),
        seed: o.seed(),
        time_scale: source.time_scale,
        load_factor: source.load_factor,
        cluster,
        balancing: o.balancing.clone(),
    };
    let replay = replay_scenario(&trace, &options)?;
    Ok(Built {
        scenario: replay.scenario,
        replay: Some(Replayed {
            section: replay.section,
            jobs: replay.jobs,
        }),
        config_file: None,
        sizes: None,
    })
}

/// The trace, or the JUnit suite, a source names. Only JUnit reports
/// merge, and only a suite takes a requirements map or an arrival pattern.
fn load(source: &TraceSource, seed: u64) -> Result<Trace> {
    let paths = source.paths();
    if junit::is_junit(&paths, source.format) {
        return junit::load(&paths, &source.junit, seed);
    }
    let refuse = |flag: &str, why: &str| Err(Error::invalid(flag, why.to_string()));
    if paths.len() > 1 {
        return refuse(
            "TRACE",
            "only JUnit reports merge: name one trace of another format",
        );
    }
    if source.junit.requirements.is_some() {
        return refuse(
            "--requirements",
            "maps the tests of a JUnit suite; this trace has its own needs",
        );
    }
    if source.junit.arrivals.is_some() {
        return refuse(
            "--arrivals",
            "spreads a JUnit suite; this trace has its own submission times",
        );
    }
    Trace::load(&source.path, source.format)
}

/// The worker pool (count and profile) of a config scenario.
fn cluster_pool(source: &ClusterSource, env: &EnvSettings) -> Result<ClusterPool> {
    let config = Config::load(source.config.as_deref(), env.config_path.as_deref())?;
    let base = config.scenario(&source.scenario, &Overrides::default())?;
    Ok(ClusterPool {
        workers: base.workers,
        profile: base.worker_profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{BalancingOverrides, StressOptions};

    fn request(source: Source, overrides: Overrides) -> RunRequest {
        RunRequest {
            overrides,
            ..RunRequest::new(source)
        }
    }

    #[test]
    fn a_named_scenario_is_built_with_the_overrides_in_place() {
        let keys = Overrides {
            tests: Some(50),
            balancing: BalancingOverrides {
                work_stealing: true,
                concurrency_keys: Some(3),
                ..Default::default()
            },
            ..Default::default()
        };
        let source = Source::Scenario {
            name: "worker_churn".into(),
            config: None,
        };
        let run = request(source, keys)
            .prepare(&EnvSettings::default())
            .unwrap();
        let s = run.scenario();
        assert_eq!(s.tests, 50);
        assert!(s.balancing.stealing.enabled);
        assert_eq!(s.test_profile.concurrency_keys, 3);
        assert!(run.config_file().unwrap().contains("default.json"));
    }

    #[test]
    fn the_environment_fills_the_stress_duration_and_limits_workers() {
        let env = EnvSettings {
            default_duration_s: Some(15.0),
            max_workers: Some(25),
            ..Default::default()
        };
        let stress = Source::Stress {
            burst: false,
            dynamic: false,
        };
        let run = RunRequest::new(stress.clone()).prepare(&env).unwrap();
        assert_eq!(run.scenario().duration_s, 15.0);
        let big = Overrides {
            workers: Some(30),
            ..Default::default()
        };
        let err = request(stress, big).prepare(&env).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("LB_MAX_WORKERS=25"), "{err}");
        // The spike's dynamic workers may grow to 1.5 × 20 = 30.
        assert!(RunRequest::new(Source::Spike).prepare(&env).is_err());
    }

    #[test]
    fn overrides_a_source_does_not_take_are_refused() {
        let env = EnvSettings::default();
        let ready = StressOptions::default().to_scenario().unwrap();
        let seed = Overrides {
            seed: Some(1),
            ..Default::default()
        };
        let err = request(Source::Ready(Box::new(ready)), seed)
            .prepare(&env)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid --seed: a ready scenario"),
            "{err}"
        );
        let trace = Source::Trace(TraceSource::new("no-such.swf"));
        let tests = Overrides {
            tests: Some(5),
            ..Default::default()
        };
        let err = request(trace, tests).prepare(&env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --tests: replay takes its tests from the trace"
        );
    }
}
