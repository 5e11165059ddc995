//! `lbsim serve`: the coordinator service over the balancer core.

use super::options::{seconds_within, PolicyArgs};
use crate::balancer::policy::SchedulerName;
use crate::error::{Error, Result};
use crate::scenario::DEFAULT_SEED;
use crate::service::{self, ServeOptions};
use clap::Args;
use std::path::PathBuf;

/// Options of `serve`.
#[derive(Clone, Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (loopback unless you say otherwise)
    #[arg(long, default_value = "127.0.0.1", value_name = "HOST")]
    pub(crate) host: String,
    /// Port to listen on (0: any free port; the ready line says which)
    #[arg(long, default_value_t = 8080, value_name = "PORT")]
    pub(crate) port: u16,
    /// The SQLite store (created if missing; reopened after a restart)
    #[arg(long, default_value = "./lbsim.db", value_name = "FILE")]
    pub(crate) db_path: PathBuf,
    /// The coordinator's plain queue instead of the balancer, for comparison
    #[arg(long)]
    pub(crate) disable_load_balancer: bool,
    /// DEBUG, INFO, WARNING or ERROR (logs go to stderr)
    #[arg(long, env = "LB_LOG_LEVEL", default_value = "info", value_name = "LEVEL",
          value_parser = parse_level)]
    pub(crate) log_level: tracing::Level,
    /// Seconds of silence after which a worker is offline and its runs
    /// requeued (0.1 to 86400)
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS",
          value_parser = heartbeat_timeout)]
    pub(crate) heartbeat_timeout: f64,
    /// Every /v1 call must carry `Authorization: Bearer TOKEN`
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Append every fact the core sees to FILE (JSON lines; `lbsim replay FILE` replays it)
    #[arg(long, value_name = "FILE")]
    pub(crate) record: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// `--heartbeat-timeout`: workers beat a few times per timeout, so under
/// a tenth of a second they would do nothing else (1e-300 gave them an
/// interval of 0); over a day a lost worker would never be noticed.
fn heartbeat_timeout(s: &str) -> std::result::Result<f64, String> {
    seconds_within(s, 0.1, 86_400.0)
}

/// `--log-level` / `LB_LOG_LEVEL`, with the reference's names.
pub(super) fn parse_level(s: &str) -> std::result::Result<tracing::Level, String> {
    match s.trim().to_ascii_uppercase().as_str() {
        "DEBUG" => Ok(tracing::Level::DEBUG),
        "INFO" => Ok(tracing::Level::INFO),
        "WARNING" | "WARN" => Ok(tracing::Level::WARN),
        "ERROR" => Ok(tracing::Level::ERROR),
        "TRACE" => Ok(tracing::Level::TRACE),
        _ => Err(format!("'{s}' is not one of DEBUG, INFO, WARNING, ERROR")),
    }
}

/// Structured logs on stderr at `level`.
pub(super) fn init_logs(level: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

pub(crate) fn run(args: &ServeArgs) -> Result<()> {
    let common = &args.policy;
    if args.disable_load_balancer && (common.scheduler.is_some() || common.work_stealing) {
        return Err(Error::invalid(
            "--disable-load-balancer",
            "the plain queue has no policy: drop --scheduler and --work-stealing",
        ));
    }
    if args.token.as_deref().is_some_and(str::is_empty) {
        return Err(Error::invalid("--token", "must not be empty"));
    }
    init_logs(args.log_level);
    let mut balancing = crate::balancer::options::BalancerOptions::default();
    if let Some(w) = &common.composite_weights {
        balancing.composite_weights = w.clone();
    }
    balancing.stealing.enabled = common.work_stealing;
    service::serve(ServeOptions {
        host: args.host.clone(),
        port: args.port,
        db_path: args.db_path.clone(),
        scheduler: common.scheduler.unwrap_or(SchedulerName::DEFAULT),
        balancing,
        heartbeat_timeout_s: args.heartbeat_timeout,
        token: args.token.clone(),
        record: args.record.clone(),
        seed: common.seed.unwrap_or(DEFAULT_SEED),
        plain_queue: args.disable_load_balancer,
    })
}
