//! `lbsim diff A B`: two decision logs or two results files side by side;
//! exit 1 when they differ beyond the tolerance, so CI can gate on it.

use crate::compare;
use crate::error::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Flags of `diff`.
#[derive(Clone, Debug, Args)]
pub(crate) struct DiffArgs {
    /// The baseline: a decision log (--decisions) or a results file (--output)
    #[arg(value_name = "A")]
    pub(crate) a: PathBuf,
    /// The file to compare with A (the same kind)
    #[arg(value_name = "B")]
    pub(crate) b: PathBuf,
    /// Largest accepted change, in percent, of each metric and of the share of
    /// differing decisions
    #[arg(long, value_name = "PCT", default_value_t = 0.0, allow_hyphen_values = true,
          value_parser = tolerance)]
    pub(crate) tolerance: f64,
}

fn tolerance(s: &str) -> Result<f64, String> {
    match s.trim().trim_end_matches('%').parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("{s} is not a percentage (0 or more)")),
    }
}

pub(crate) fn run(args: &DiffArgs) -> Result<()> {
    let c = compare::diff_files(&args.a, &args.b)?;
    let (a, b) = (args.a.display().to_string(), args.b.display().to_string());
    out!("{}", c.render(&a, &b, args.tolerance));
    if c.is_within(args.tolerance) {
        Ok(())
    } else {
        Err(Error::Run(format!(
            "{a} and {b} differ beyond the tolerance of {} %",
            args.tolerance
        )))
    }
}
