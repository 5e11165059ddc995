//! `lbsim --list-scenarios` and `lbsim --scenario NAME` / `lbsim scenario NAME`.

use super::args::Cli;
use super::stress::run_and_write;
use crate::error::Result;
use crate::report;
use crate::scenario::config::Overrides;
use crate::scenario::{Config, EnvSettings, LogLevel, Scenario};

/// The config of `--config`, else `LB_CONFIG_PATH`, else the embedded one.
pub fn load_config(cli: &Cli, env: &EnvSettings) -> Result<Config> {
    let config = Config::load(cli.config.as_deref(), env.config_path.as_deref())?;
    env.log(LogLevel::Info, &format!("config {}", config.file));
    Ok(config)
}

pub fn list(cli: &Cli, env: &EnvSettings) -> Result<()> {
    let config = load_config(cli, env)?;
    let scenarios = config.scenarios();
    let width = scenarios.iter().map(|s| s.0.len()).max().unwrap_or(0);
    for (name, description) in scenarios {
        outln!("{name:<width$}  {description}");
    }
    Ok(())
}

/// The named scenario of the config, with `--workers`, `--tests`,
/// `--duration`, `--seed` and `--scheduler` overriding its values.
pub fn build(name: &str, cli: &Cli, env: &EnvSettings) -> Result<Scenario> {
    let config = load_config(cli, env)?;
    let c = &cli.common;
    let overrides = Overrides {
        workers: c.workers,
        tests: c.tests,
        duration_s: c.duration,
        seed: c.seed,
        scheduler: c.scheduler,
        default_duration_s: env.default_duration_s,
    };
    config.scenario(name, &overrides)
}

/// Runs a scenario (see `build` for the flags that override it).
pub fn run(name: &str, cli: &Cli, env: &EnvSettings) -> Result<()> {
    let scenario = build(name, cli, env)?;
    env.log(
        LogLevel::Info,
        &format!("scenario {name}, seed {}", scenario.seed),
    );
    let out = run_and_write(&scenario, &cli.common)?;
    out!("{}", report::summary(&out));
    Ok(())
}
