//! `lbsim visualize`: charts and an HTML report from a results file.

use super::args::VisualizeArgs;
use crate::error::Result;

pub fn run(args: &VisualizeArgs) -> Result<()> {
    let written = crate::visualize::visualize(&args.input, &args.output_dir, args.kind)?;
    println!(
        "lbsim visualize: {} results, {} files in {}",
        written.kind.as_str(),
        written.files.len(),
        args.output_dir.display()
    );
    for f in &written.files {
        println!("  {}", f.display());
    }
    for n in &written.notes {
        println!("  skipped {n}");
    }
    Ok(())
}
