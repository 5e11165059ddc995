//! `lbsim cancel --url URL ID...`: cancels tests on a running coordinator.
//! A pending test is cancelled at once; a running one when its worker
//! learns it (its next heartbeat or lease call).

use crate::client::Client;
use crate::error::{Error, Result};
use clap::Args;

/// Options of `cancel`.
#[derive(Clone, Debug, Args)]
pub(crate) struct CancelArgs {
    /// The coordinator's base URL
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub(crate) url: String,
    /// The coordinator's bearer token
    #[arg(long, env = "LB_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// Test ids to cancel
    #[arg(value_name = "ID", required = true, num_args = 1..=10_000)]
    pub(crate) ids: Vec<u64>,
}

/// Cancels each test in turn and prints its state; a test that is final
/// already is reported and skipped. Fails (exit 1) if any call failed for
/// another reason.
pub(crate) fn run(args: &CancelArgs) -> Result<()> {
    let client = Client::new(&args.url, args.token.clone());
    let mut failed = Vec::new();
    for &id in &args.ids {
        match client.cancel_test(id) {
            Ok(view) => outln!("test {id}: {}", view.state.as_str()),
            Err(e) if e.status() == Some(409) => {
                outln!("test {id}: not cancelled: {}", message(&e))
            }
            Err(e) => {
                crate::console::print_err(&format!("lbsim cancel: test {id}: {e}\n"));
                failed.push(id);
            }
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::Run(format!(
        "could not cancel {} test(s): {}",
        failed.len(),
        failed
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

fn message(e: &crate::client::ClientError) -> String {
    match e {
        crate::client::ClientError::Status { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
