//! The benchmark suite (`lbsim benchmark`) on the sweep machinery: its
//! cells on N threads, rows handed back in grid order (so the table and the
//! JSON are the same bytes for any `--jobs`), a journal to resume a killed
//! run, and shards for job arrays.
//!
//! Shards: each `--shard K/N` run journals its cells; the journals
//! concatenated into one are a journal of the whole grid, and a `--resume`
//! over it runs nothing more and writes the suite's document.

use super::append::Appender;
use super::journal;
use super::key::cell_key;
use super::parallel::run_in_order;
use super::progress::Progress;
use super::shard::Shard;
use crate::engine::NoObserver;
use crate::error::{Error, Result};
use crate::report::BenchmarkRow;
use crate::run::PreparedRun;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// How to run the suite.
#[derive(Clone, Debug)]
pub struct SuiteOptions {
    /// Threads; at least 1.
    pub jobs: usize,
    pub shard: Shard,
    /// Where finished cells are journaled (none: the run cannot resume).
    pub journal: Option<PathBuf>,
    /// Continue the journal instead of refusing to touch it.
    pub resume: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// What a suite run did.
#[derive(Clone, Debug, PartialEq)]
pub struct SuiteOutcome {
    /// Cells of this shard.
    pub(crate) cells: usize,
    /// Of them, already in the journal before this run.
    pub(crate) skipped: usize,
    /// Of them, run now.
    pub(crate) written: usize,
    /// Stopped early by the stop flag (Ctrl-C).
    pub interrupted: bool,
    /// Every row known (journaled or run now), in grid order; all of the
    /// grid's when `complete`.
    pub rows: Vec<BenchmarkRow>,
    pub(crate) complete: bool,
}

/// Where the journal of a suite writing `output` lives.
pub(crate) fn journal_path(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".cells.jsonl");
    PathBuf::from(name)
}

/// One cell's row.
pub(crate) fn run_row(cell: &PreparedRun) -> Result<BenchmarkRow> {
    let s = cell.scenario();
    let output = cell.run(&mut NoObserver)?.output;
    Ok(BenchmarkRow {
        workers: s.workers,
        tests: s.tests,
        duration: s.duration_s,
        scheduler: s.scheduler,
        metrics: output.metrics,
        latency_quantiles: (output.distributions.latency.iter())
            .map(|&(_, seconds)| seconds)
            .collect(),
    })
}

/// Runs the cells of `opts.shard` the journal lacks, and hands every known
/// row to `on_row` in grid order (journaled ones too, so a resumed run
/// prints the same table). `stop` is checked before each cell.
pub fn run_suite(
    cells: &[PreparedRun],
    opts: &SuiteOptions,
    stop: &AtomicBool,
    mut on_row: impl FnMut(&BenchmarkRow) -> Result<()>,
) -> Result<SuiteOutcome> {
    if opts.jobs == 0 {
        return Err(Error::invalid("--jobs", "must be at least 1"));
    }
    let keys: Vec<String> = cells.iter().map(|c| cell_key(c.scenario())).collect();
    let mut known = match &opts.journal {
        Some(path) => open_journal(path, &keys, opts.resume)?,
        None => BTreeMap::new(),
    };
    let mine: Vec<usize> = (0..cells.len())
        .filter(|c| opts.shard.contains(*c))
        .collect();
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|c| !known.contains_key(c))
        .collect();
    let bar = Progress::new(mine.len(), mine.len() - todo.len(), opts.progress);
    let mut out = opts.journal.as_deref().map(Appender::open).transpose()?;
    let mut table = Table {
        shown: 0,
        on_row: &mut on_row,
        bar: &bar,
    };
    let mut fresh = BTreeMap::new();
    let written = run_in_order(
        &todo,
        opts.jobs,
        stop,
        |cell| run_row(&cells[cell]),
        |cell, row| {
            if let Some(out) = out.as_mut() {
                out.append(&journal::line(cell, &keys[cell], &row))?;
            }
            bar.inc();
            table.until(cell, &known)?;
            table.show(cell, &row)?;
            fresh.insert(cell, row);
            Ok(())
        },
    )?;
    if let Some(out) = out.as_mut() {
        out.sync()?;
    }
    let interrupted = written < todo.len();
    if !interrupted {
        table.until(cells.len(), &known)?;
    }
    bar.finish();
    known.append(&mut fresh);
    let complete = known.len() == cells.len();
    Ok(SuiteOutcome {
        cells: mine.len(),
        skipped: mine.len() - todo.len(),
        written,
        interrupted,
        rows: known.into_values().collect(),
        complete,
    })
}

/// Hands rows to the caller in grid order, each once, with the progress
/// bar out of the way.
struct Table<'a, F> {
    /// Cells before this one were handed over (or are not known).
    shown: usize,
    on_row: &'a mut F,
    bar: &'a Progress,
}

impl<F: FnMut(&BenchmarkRow) -> Result<()>> Table<'_, F> {
    /// Hands over the journaled rows before `cell`.
    fn until(&mut self, cell: usize, known: &BTreeMap<usize, BenchmarkRow>) -> Result<()> {
        if self.shown >= cell {
            return Ok(());
        }
        for (&at, row) in known.range(self.shown..cell) {
            self.show(at, row)?;
        }
        Ok(())
    }

    fn show(&mut self, cell: usize, row: &BenchmarkRow) -> Result<()> {
        let on_row = &mut *self.on_row;
        self.bar.suspend(|| on_row(row))?;
        self.shown = cell + 1;
        Ok(())
    }
}

/// The journal's rows, after rewriting it whole in grid order (which drops
/// a torn last line and joins concatenated shards); or a new empty one.
fn open_journal(
    path: &Path,
    keys: &[String],
    resume: bool,
) -> Result<BTreeMap<usize, BenchmarkRow>> {
    if !path.exists() {
        crate::report::write_atomically(path, b"")?;
        return Ok(BTreeMap::new());
    }
    if !resume {
        return Err(Error::invalid(
            "--output",
            format!(
                "{} exists (the journal of an unfinished run); add --resume to continue it, or remove it",
                path.display()
            ),
        ));
    }
    let rows = journal::read(path, keys)?;
    let text: String = rows
        .iter()
        .map(|(&cell, row)| journal::line(cell, &keys[cell], row))
        .collect();
    crate::report::write_atomically(path, text.as_bytes())?;
    Ok(rows)
}

/// Removes the journal once the suite's document is written.
pub(crate) fn remove_journal(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}
