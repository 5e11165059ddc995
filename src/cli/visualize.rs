//! `lbsim visualize`: charts and an HTML report from a results file.

use crate::error::Result;
use clap::Args;
use std::path::PathBuf;

/// Options of `visualize`.
#[derive(Clone, Debug, Args)]
pub(crate) struct VisualizeArgs {
    /// Results file: a results JSON (stress, scenario, spike, benchmark) or a sweep CSV
    pub(crate) input: PathBuf,
    /// Directory for the charts and index.html
    #[arg(
        long,
        short = 'o',
        default_value = "./visualizations",
        value_name = "DIR"
    )]
    pub(crate) output_dir: PathBuf,
    /// Kind of results [default: detected from the file]
    #[arg(long = "type", short = 't', value_name = "TYPE")]
    pub(crate) kind: Option<crate::visualize::Kind>,
}

pub(crate) fn run(args: &VisualizeArgs) -> Result<()> {
    let written = crate::visualize::visualize(&args.input, &args.output_dir, args.kind)?;
    outln!(
        "lbsim visualize: {} results, {} files in {}",
        written.kind.as_str(),
        written.files.len(),
        args.output_dir.display()
    );
    for f in &written.files {
        outln!("  {}", f.display());
    }
    for line in &written.summary {
        outln!("  {line}");
    }
    for n in &written.notes {
        outln!("  skipped {n}");
    }
    Ok(())
}
