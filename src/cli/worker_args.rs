//! The options of `lbsim worker`, both modes: the fake fleet's and, flattened
//! in, the real agent's (`--exec`). One file below `worker` and `worker_exec`,
//! so neither imports the other for them.

use super::options::seconds_within;
use clap::Args;
use std::path::PathBuf;

/// Options of `worker`.
#[derive(Clone, Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Number of fake workers [default: 4]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) workers: Option<u32>,
    /// Seed of the workers' capabilities and failures [default: 42]
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Config file whose worker profiles --profile names [env: LB_CONFIG_PATH]
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<std::path::PathBuf>,
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// Draw capabilities from this worker profile of the config
    /// [default: the reference's: 4-32 GB, 0-4 GPUs, 4 cores]
    #[arg(long, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// Run each test for its expected duration times X (0: complete at once)
    #[arg(long, value_name = "X", default_value_t = 1.0, value_parser = non_negative)]
    pub(crate) time_scale: f64,
    /// Probability that a run reports failure
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = probability)]
    pub(crate) fail_rate: f64,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    #[command(flatten)]
    pub(crate) exec: ExecArgs,
}

/// The options of `worker --exec`.
#[derive(Clone, Debug, Default, Args)]
pub(crate) struct ExecArgs {
    /// Run real tests on this machine (one agent) instead of fake workers
    #[arg(long, help_heading = "Real agent (--exec)")]
    pub(crate) exec: bool,
    /// Tests run at once, at most [default: the cores offered]
    #[arg(long, value_name = "N", help_heading = "Real agent (--exec)",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(crate) slots: Option<u32>,
    /// Cores offered [default: detected]
    #[arg(long, value_name = "N", help_heading = "Real agent (--exec)")]
    pub(crate) cores: Option<u32>,
    /// Memory offered, GB [default: /proc/meminfo's MemTotal]
    #[arg(long, value_name = "GB", help_heading = "Real agent (--exec)")]
    pub(crate) memory_gb: Option<f64>,
    /// CUDA devices offered, 0 to N-1 [default: those `nvidia-smi -L` lists]
    #[arg(long, value_name = "N", help_heading = "Real agent (--exec)")]
    pub(crate) cuda_devices: Option<u32>,
    /// Labels this worker carries (a test runs only where all its labels are)
    #[arg(
        long,
        value_name = "A,B",
        value_delimiter = ',',
        help_heading = "Real agent (--exec)"
    )]
    pub(crate) labels: Vec<String>,
    /// Its name on the coordinator [default: the host name]
    #[arg(long, value_name = "NAME", help_heading = "Real agent (--exec)")]
    pub(crate) name: Option<String>,
    /// Run each test's own `command`: whoever can submit tests can then run
    /// anything here, as this user. Needs a token or a loopback URL
    #[arg(long, help_heading = "Real agent (--exec)")]
    pub(crate) allow_test_commands: bool,
    /// Seconds between SIGTERM and SIGKILL when a run times out or is cancelled
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0,
          value_parser = grace, help_heading = "Real agent (--exec)")]
    pub(crate) grace: f64,
    /// Where each run's log goes [default: $TMPDIR/lbsim-worker-PID]
    #[arg(long, value_name = "DIR", help_heading = "Real agent (--exec)")]
    pub(crate) log_dir: Option<PathBuf>,
    /// The logs of this many finished runs are kept (0: all): a new run's
    /// log then takes over the oldest one's file
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000,
        help_heading = "Real agent (--exec)"
    )]
    pub(crate) keep_logs: usize,
    /// The command this worker runs for each test, after `--`: {name},
    /// {test_id} and {attempt} are filled in, each item one argument
    #[arg(
        last = true,
        value_name = "TEMPLATE",
        help_heading = "Real agent (--exec)"
    )]
    pub(crate) template: Vec<String>,
}

pub(super) fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a non-negative number")),
    }
}

fn probability(s: &str) -> std::result::Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s} is not a probability from 0 to 1")),
    }
}

fn grace(s: &str) -> std::result::Result<f64, String> {
    seconds_within(s, 0.01, 3600.0)
}
