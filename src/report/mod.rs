//! Writing results: the reference's JSON (plus extensions), per-test CSV and
//! a readable text summary. Reports never compute metrics; they lay out what
//! `metrics` produced, in a stable order with fixed float precision.

mod atomic;
mod benchmark;
mod csv_rows;
mod decisions;
mod json;
mod text;

pub use atomic::{write_atomically, AtomicFile};
pub use benchmark::{table_header, table_row, BenchmarkDoc, BenchmarkRow};
pub use csv_rows::{TestCsv, TEST_CSV_COLUMNS};
pub use decisions::{DecisionLog, DECISION_COLUMNS};
pub use json::{round_floats, run_json, to_pretty_json, FLOAT_DECIMALS};
pub use text::{run_stats, summary};
