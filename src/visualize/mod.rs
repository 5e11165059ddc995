//! Charts and an HTML report from any results file: a run (stress,
//! scenario, spike), a benchmark grid, or a sweep CSV. Each chart is a data
//! table (`figure`) built from the file (`run`, `grid`), then drawn as SVG
//! (`render`); `index.html` inlines them all (`html`).

mod axis;
mod best_map;
mod compare_data;
mod compare_figure;
mod compare_view;
mod data;
mod figure;
#[cfg(test)]
mod fixtures;
mod grid;
mod heatmap;
mod html;
mod out_dir;
mod render;
mod run;
mod style;

pub use axis::format_tick;
pub(crate) use compare_data::Comparison;
pub use compare_data::Criterion;
pub use data::{parse, Kind, Results};
pub(crate) use figure::Series;
pub use figure::{Body, Chart, Panel, Scale};
pub use render::{svg, x_axis};
pub use style::{Colour, Marker, PALETTE};

use crate::error::{Error, Result};
use out_dir::OutputDir;
use std::path::{Path, PathBuf};

/// The charts a results file gives, and why any were skipped.
pub fn charts(results: &Results, kind: Kind) -> (Vec<Chart>, Vec<String>) {
    match (results, kind) {
        (Results::Csv(header, rows), _) => grid::sweep_charts(header, rows),
        (Results::Benchmark(doc), _) => grid::bench_charts(doc),
        (Results::Run(doc), _) => run::charts(doc),
    }
}

/// The policy comparison of a benchmark grid or a sweep, when the file
/// has one (a sweep without the columns it needs has none).
pub(crate) fn comparison(results: &Results) -> Option<Comparison> {
    match results {
        Results::Benchmark(doc) => Some(compare_data::from_benchmark(&doc.benchmark_results)),
        Results::Csv(header, rows) => compare_data::from_sweep(header, rows).ok().map(|c| c.0),
        Results::Run(_) => None,
    }
}

/// What `visualize` wrote.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) kind: Kind,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) notes: Vec<String>,
    /// Which policy wins, one line per criterion (a grid of two policies
    /// or more; empty otherwise).
    pub(crate) summary: Vec<String>,
}

/// Reads `input`, draws every chart it has data for into `out_dir` (one SVG
/// each) and writes `index.html` beside them. `kind` overrides detection.
pub(crate) fn visualize(input: &Path, out_dir: &Path, kind: Option<Kind>) -> Result<Written> {
    let name = input.display().to_string();
    let bytes = crate::input::read(input, crate::input::InputKind::Results)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::bad_file(
            input.display().to_string(),
            "contents",
            "not UTF-8 text: not a results file",
        )
    })?;
    let (results, detected) = parse(&name, &text)?;
    let kind = kind.unwrap_or(detected);
    check_kind(&name, &results, kind)?;
    let (charts, notes) = charts(&results, kind);
    let mut dir = OutputDir::prepare("--output-dir", out_dir)?;
    let mut files = Vec::new();
    let mut inlined = Vec::new();
    for c in &charts {
        let svg = render::svg(c)?;
        files.push(dir.write(&format!("{}.svg", c.name), svg.as_bytes())?);
        inlined.push((c.name.clone(), svg));
    }
    let run = match &results {
        Results::Run(doc) => Some(&**doc),
        _ => None,
    };
    let title = match run {
        Some(doc) => format!("lbsim report: {}", run::headline(doc)),
        None => format!("lbsim {} report", kind.as_str()),
    };
    let comparison = comparison(&results);
    let page = html::page(&html::Page {
        title,
        source: &name,
        kind: kind.as_str(),
        results: run,
        tables: (comparison.as_ref()).map_or_else(String::new, compare_view::tables),
        charts: inlined,
        notes: &notes,
    });
    files.push(dir.write("index.html", page.as_bytes())?);
    dir.finish();
    let summary = (comparison.as_ref()).map_or_else(Vec::new, compare_view::summary);
    Ok(Written {
        kind,
        files,
        notes,
        summary,
    })
}

/// Checks `out_dir` as [`write_charts`] will, creating nothing, so a bad
/// path fails before a long run does.
pub(crate) fn check_chart_dir(flag: &'static str, out_dir: &Path) -> Result<()> {
    out_dir::check(flag, out_dir).map(|_| ())
}

/// Draws `charts` into `out_dir`, one SVG each, the directory checked and
/// made as `visualize` makes its own (a bad path is bad input naming
/// `flag`): for a command that builds its own charts (`lbsim plan`).
pub(crate) fn write_charts(
    flag: &'static str,
    out_dir: &Path,
    charts: &[Chart],
) -> Result<Vec<PathBuf>> {
    let mut dir = OutputDir::prepare(flag, out_dir)?;
    let mut files = Vec::new();
    for c in charts {
        let svg = render::svg(c)?;
        files.push(dir.write(&format!("{}.svg", c.name), svg.as_bytes())?);
    }
    dir.finish();
    Ok(files)
}

/// A forced `--type` must match what the file can be.
fn check_kind(name: &str, results: &Results, kind: Kind) -> Result<()> {
    let ok = match results {
        Results::Csv(..) => kind == Kind::Sweep,
        Results::Benchmark(_) => kind == Kind::Benchmark,
        Results::Run(_) => matches!(kind, Kind::Stress | Kind::Spike),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "--type",
            format!("{name} does not hold {} results", kind.as_str()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forced_type_must_fit_the_file() {
        let run = Results::Run(Box::new(fixtures::run_doc()));
        assert!(check_kind("r", &run, Kind::Spike).is_ok());
        assert!(check_kind("r", &run, Kind::Stress).is_ok());
        let err = check_kind("r", &run, Kind::Benchmark).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --type: r does not hold benchmark results"
        );
        assert_eq!(err.exit_code(), 2);
        let grid = Results::Benchmark(crate::report::BenchmarkDoc::new(&[], false, 1));
        assert!(check_kind("g", &grid, Kind::Benchmark).is_ok());
        assert!(check_kind("g", &grid, Kind::Stress).is_err());
    }
}
