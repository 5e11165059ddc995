//! `lbsim visualize`: charts and an HTML report from a results file.

use super::args::VisualizeArgs;
use crate::error::Result;
use std::io::Write;

pub fn run(args: &VisualizeArgs) -> Result<()> {
    let written = crate::visualize::visualize(&args.input, &args.output_dir, args.kind)?;
    // A closed stdout (`| head`) must not turn a finished job into a panic.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "lbsim visualize: {} results, {} files in {}",
        written.kind.as_str(),
        written.files.len(),
        args.output_dir.display()
    );
    for f in &written.files {
        let _ = writeln!(out, "  {}", f.display());
    }
    for n in &written.notes {
        let _ = writeln!(out, "  skipped {n}");
    }
    Ok(())
}
