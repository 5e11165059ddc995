//! Reading a results file for charts: a run's [`ResultsDoc`], a
//! [`BenchmarkDoc`], or a sweep CSV. The JSON documents are read typed, so a
//! file that is not what lbsim wrote is bad input naming the field; series
//! that older lbsim versions did not write read as empty, and only the
//! charts that need them are skipped.

use crate::error::{Error, Result};
use crate::report::{parse_json, BenchmarkDoc, ResultsDoc};
use indexmap::IndexMap;
use serde::de::IgnoredAny;

/// What kind of results a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// One run (`lbsim stress --output`, a scenario run).
    Stress,
    /// A benchmark grid: `{"benchmark_results": [...]}`.
    Benchmark,
    /// One run with load spikes: a top-level `"spikes"` list.
    Spike,
    /// A sweep CSV: one row per cell.
    Sweep,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stress => "stress",
            Kind::Benchmark => "benchmark",
            Kind::Spike => "spike",
            Kind::Sweep => "sweep",
        }
    }
}

/// A parsed results file.
#[derive(Clone, Debug)]
pub enum Results {
    /// One run (stress, scenario, spike or replay).
    Run(Box<ResultsDoc>),
    Benchmark(BenchmarkDoc<'static>),
    /// A sweep CSV: header and rows.
    Csv(Vec<String>, Vec<Vec<String>>),
}

fn not_results(file: &str, why: &str) -> Error {
    Error::bad_file(
        file,
        "top level",
        format!(
            "not an lbsim results file ({why}; expected a JSON object with 'metrics' or \
             'benchmark_results', or a sweep CSV with a 'seed' column)"
        ),
    )
}

/// Parses `text` (named `file` in errors) and tells its kind.
pub fn parse(file: &str, text: &str) -> Result<(Results, Kind)> {
    // The top-level keys tell the document's type; the values are skipped.
    match serde_json::from_str::<IndexMap<String, IgnoredAny>>(text) {
        Ok(keys) if keys.contains_key("benchmark_results") => {
            let doc = BenchmarkDoc::parse(file, text)?;
            Ok((Results::Benchmark(doc), Kind::Benchmark))
        }
        Ok(keys) if keys.contains_key("metrics") => {
            let doc = ResultsDoc::parse(file, text)?;
            let kind = if doc.spikes.is_empty() {
                Kind::Stress
            } else {
                Kind::Spike
            };
            Ok((Results::Run(Box::new(doc)), kind))
        }
        Ok(_) => Err(not_results(file, "no 'metrics' object")),
        // Broken JSON gets serde's line and column; anything else may be a CSV.
        Err(_) if text.trim_start().starts_with('{') => {
            parse_json::<IgnoredAny>(file, text)?;
            Err(not_results(file, "no 'metrics' object"))
        }
        Err(_) if serde_json::from_str::<IgnoredAny>(text).is_ok() => {
            Err(not_results(file, "not a JSON object"))
        }
        Err(_) => parse_csv(file, text),
    }
}

/// A sweep CSV: a header with a `seed` column, then one row per cell.
fn parse_csv(file: &str, text: &str) -> Result<(Results, Kind)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| not_results(file, "neither JSON nor CSV"))?
        .iter()
        .map(str::to_string)
        .collect();
    if !header.iter().any(|h| h == "seed") {
        return Err(not_results(file, "no JSON and no 'seed' column"));
    }
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::bad_line(file, i + 2, e.to_string()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((Results::Csv(header, rows), Kind::Sweep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::BenchmarkRow;
    use crate::visualize::fixtures::{known_run_doc, run_doc};

    #[test]
    fn kinds_are_told_by_the_documents() {
        let kind = |text: &str| parse("x.json", text).unwrap().1;
        assert_eq!(kind(&run_doc().to_json()), Kind::Stress);
        assert_eq!(kind(&known_run_doc().to_json()), Kind::Spike);
        let rows: [BenchmarkRow; 0] = [];
        let grid = crate::report::to_pretty_json(&BenchmarkDoc::new(&rows, true, 3));
        assert_eq!(kind(&grid), Kind::Benchmark);
        let (csv, kind) =
            parse("s.csv", "scheduler,seed,avg_latency\nround_robin,1,0.5\n").unwrap();
        assert_eq!(kind, Kind::Sweep);
        assert!(matches!(csv, Results::Csv(h, rows) if h.len() == 3 && rows.len() == 1));
    }

    #[test]
    fn a_file_that_is_not_results_is_a_bad_file() {
        for text in [
            "{\"a\": 1}",
            "hello\nworld\n",
            "{oops",
            "[]",
            "5",
            "[package]\nname = 1\n",
            "",
        ] {
            let err = parse("x.json", text).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{text}: {err}");
            assert!(err.to_string().starts_with("x.json: "), "{err}");
        }
    }

    #[test]
    fn a_mistyped_results_file_names_the_field() {
        let text = run_doc()
            .to_json()
            .replacen("\"seed\": 7", "\"seed\": -7", 1);
        let err = parse("r.json", &text).unwrap_err().to_string();
        assert!(err.starts_with("r.json: seed (line 4, column "), "{err}");
        let grid = "{\"benchmark_results\": [{\"workers\": 5}]}";
        let err = parse("b.json", grid).unwrap_err().to_string();
        assert!(
            err.starts_with("b.json: benchmark_results[0] (line 1"),
            "{err}"
        );
        assert!(err.ends_with("missing field `tests`"), "{err}");
    }
}
