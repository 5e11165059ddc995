//! Runs a grid's cells on N threads and appends their rows in grid order
//! (see `parallel`): the file is the same bytes for any thread count, and
//! at every instant it is a prefix of the finished file, so an interrupted
//! run resumes by skipping the cells it holds.

use super::append::Appender;
use super::grid::{Cell, Grid};
use super::parallel::run_in_order;
use super::progress::Progress;
use super::row::{fields, header, line, ResultsFile};
use super::shard::Shard;
use crate::engine::NoObserver;
use crate::error::{Error, Result};
use crate::run::{RunRequest, Source};
use crate::scenario::EnvSettings;
use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub output: PathBuf,
    /// Threads; at least 1.
    pub jobs: usize,
    pub shard: Shard,
    /// Continue the output file instead of refusing to touch it.
    pub resume: bool,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

/// What a sweep did.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Cells of this shard.
    pub(crate) cells: usize,
    /// Of them, already in the file before this run.
    pub(crate) skipped: usize,
    /// Of them, run and written now.
    pub(crate) written: usize,
    /// Stopped early by the stop flag (Ctrl-C).
    pub interrupted: bool,
    /// The file now holds every cell of the grid.
    pub complete: bool,
}

/// Runs the grid's cells of `opts.shard` that the output file lacks.
/// `stop` is checked before each cell: in-flight cells finish, and their
/// rows are written if every earlier row is.
pub fn run(grid: &Grid, opts: &SweepOptions, stop: &AtomicBool) -> Result<Outcome> {
    if opts.jobs == 0 {
        return Err(Error::invalid("--jobs", "must be at least 1"));
    }
    let head = line(&header(grid));
    let (done, in_order) = prepare(grid, opts, &head)?;
    let mine: Vec<usize> = (0..grid.len())
        .filter(|c| opts.shard.contains(*c))
        .collect();
    let todo: Vec<usize> = mine.iter().copied().filter(|c| !done.contains(c)).collect();
    let skipped = mine.len() - todo.len();
    let needs_sort = !in_order || done.last().zip(todo.first()).is_some_and(|(d, t)| d > t);
    let bar = Progress::new(mine.len(), skipped, opts.progress);
    let mut out = Appender::open(&opts.output)?;
    let written = run_cells(grid, &todo, opts.jobs, stop, &mut out, &bar)?;
    out.sync()?;
    bar.finish();
    let interrupted = written < todo.len();
    if needs_sort && !interrupted {
        sort_in_place(&opts.output)?;
    }
    Ok(Outcome {
        cells: mine.len(),
        skipped,
        written,
        interrupted,
        complete: done.len() + written == grid.len(),
    })
}

/// Creates the file with its header, or (with `resume`) checks the file
/// against the grid and cuts a torn last line. Returns the cells it holds
/// and whether its rows are in grid order.
fn prepare(grid: &Grid, opts: &SweepOptions, head: &str) -> Result<(BTreeSet<usize>, bool)> {
    let path = &opts.output;
    let name = path.display().to_string();
    if !path.exists() {
        write_new(path, head)?;
        return Ok((BTreeSet::new(), true));
    }
    if !opts.resume {
        return Err(Error::invalid(
            "--output",
            format!("{name} exists; add --resume to continue it, or remove it"),
        ));
    }
    let file = ResultsFile::read(path)?;
    let Some(found) = &file.header else {
        // Not even a whole header: start again.
        write_new(path, head)?;
        return Ok((BTreeSet::new(), true));
    };
    if found != head.trim_end() {
        return Err(Error::bad_file(
            name,
            "line 1",
            "its columns differ from this grid's (another grid?)",
        ));
    }
    if file.torn {
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        f.set_len(file.complete_len)
            .map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
    }
    let mut done = BTreeSet::new();
    let mut in_order = true;
    for row in &file.rows {
        let expected = (row.cell < grid.len())
            .then(|| grid.cell(row.cell))
            .transpose()?;
        if expected.as_ref().map(|c| &c.key) != Some(&row.key) {
            return Err(Error::bad_line(
                name,
                row.line_no,
                format!(
                    "cell {} is not this grid's (grid, seed or lbsim version changed?)",
                    row.cell
                ),
            ));
        }
        in_order &= done.last().is_none_or(|last| *last < row.cell);
        if !done.insert(row.cell) {
            in_order = false;
        }
    }
    Ok((done, in_order))
}

fn write_new(path: &Path, head: &str) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(head.as_bytes())
        .map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Runs `todo` (cell indices, ascending) on `jobs` threads, appending rows
/// in order. Returns how many rows were written.
fn run_cells(
    grid: &Grid,
    todo: &[usize],
    jobs: usize,
    stop: &AtomicBool,
    out: &mut Appender,
    bar: &Progress,
) -> Result<usize> {
    run_in_order(
        todo,
        jobs,
        stop,
        |cell| grid.cell(cell).and_then(|c| run_cell(&c, grid.env())),
        |_, row| {
            out.append(&row)?;
            bar.inc();
            Ok(())
        },
    )
}

/// One cell's row: the cell's scenario as a ready run request.
fn run_cell(cell: &Cell, env: &EnvSettings) -> Result<String> {
    let request = RunRequest::new(Source::Ready(Box::new(cell.scenario.clone())));
    let report = request
        .prepare(env)
        .and_then(|run| run.run(&mut NoObserver))
        .map_err(|e| Error::Run(format!("cell {}: {e}", cell.index)))?;
    Ok(line(&fields(cell, &report.output)))
}

/// Rewrites a results file with its rows in grid order (after a resume
/// that filled gaps), atomically.
fn sort_in_place(path: &Path) -> Result<()> {
    let file = ResultsFile::read(path)?;
    let text = super::merge::join(&[(path.display().to_string(), file)])?;
    crate::report::write_atomically(path, text.as_bytes())
}
