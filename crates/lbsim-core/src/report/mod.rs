//! Writing results: the reference's JSON (plus extensions), per-test CSV and
//! a readable text summary. Reports never compute metrics; they lay out what
//! `metrics` produced, in a stable order with fixed float precision. The JSON
//! documents are types ([`ResultsDoc`], [`BenchmarkDoc`]) that are written
//! here and read back by `compare`, `visualize` and the dashboards.

mod atomic;
mod benchmark;
mod csv_rows;
mod decisions;
mod json;
mod results;
mod text;

pub(crate) use atomic::AtomicFile;
pub use atomic::{clean_up_on_signals, remove_live_temps, write_atomically};
pub(crate) use atomic::{follow_links, is_special};
pub use benchmark::{table_header, table_row, BenchmarkDoc, BenchmarkRow};
pub(crate) use csv_rows::TestCsv;
#[cfg(test)]
pub(crate) use csv_rows::TEST_CSV_COLUMNS;
pub(crate) use decisions::DecisionLog;
pub use decisions::{live_decision_rows, DECISION_COLUMNS};
pub use json::{parse_json, read_json, to_pretty_json, write_json, FLOAT_DECIMALS};
pub use results::{Configuration, LiveSection, ResultsDoc, SpikeWindow, TraceSection};
pub(crate) use text::run_stats;
pub use text::summary;
