//! `lbsim --list-schedulers` and `lbsim --list-scenarios`.

use crate::balancer::policy::SCHEDULERS;
use crate::error::Result;
use crate::scenario::{Config, EnvSettings, LogLevel};
use std::path::Path;

/// The policies, one per line.
pub(crate) fn schedulers() -> Result<()> {
    for s in SCHEDULERS {
        outln!("{:<22} {}", s.id, s.description);
    }
    Ok(())
}

/// The config's scenarios (`--config`, else `LB_CONFIG_PATH`, else the
/// embedded one), name and description.
pub(crate) fn scenarios(config: Option<&Path>, env: &EnvSettings) -> Result<()> {
    let config = Config::load(config, env.config_path.as_deref())?;
    env.log(LogLevel::Info, &format!("config {}", config.file));
    let scenarios = config.scenarios();
    let width = scenarios.iter().map(|s| s.0.len()).max().unwrap_or(0);
    for (name, description) in scenarios {
        outln!("{name:<width$}  {description}");
    }
    Ok(())
}
