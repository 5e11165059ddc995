//! Runs a grid's cells on N threads and appends their rows in grid order.
//!
//! Threads take the next cell from a shared counter and send back its row;
//! the calling thread buffers rows that arrive early and appends each row
//! once every row before it is written. So the file is the same bytes for
//! any thread count, and at every instant it is a prefix of the finished
//! file: an interrupted run resumes by skipping the cells it holds.

use super::grid::{Cell, Grid};
use super::progress::Progress;
use super::row::{fields, header, line, ResultsFile};
use super::shard::Shard;
use crate::engine::NoObserver;
use crate::error::{Error, Result};
use crate::run::{RunRequest, Source};
use crate::scenario::EnvSettings;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    pub cells: usize,
    /// Of them, already in the file before this run.
    pub skipped: usize,
    /// Of them, run and written now.
    pub written: usize,
    /// Stopped early by the stop flag (Ctrl-C).
    pub interrupted: bool,
    /// The file now holds every cell of the grid.
    pub complete: bool,
}

/// Rows reach the disk at least this often.
const SYNC_EVERY: Duration = Duration::from_secs(1);

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
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<String>)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(todo.len()) {
            let tx = tx.clone();
            let (next, abort) = (&next, &abort);
            scope.spawn(move || loop {
                if stop.load(Ordering::SeqCst) || abort.load(Ordering::SeqCst) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&cell) = todo.get(i) else { break };
                let row = grid.cell(cell).and_then(|c| run_cell(&c, grid.env()));
                if tx.send((i, row)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut early = BTreeMap::new();
        let mut written = 0;
        for (i, row) in rx {
            match row {
                Ok(row) => early.insert(i, row),
                Err(e) => {
                    abort.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            };
            while let Some(row) = early.remove(&written) {
                if let Err(e) = out.append(&row) {
                    abort.store(true, Ordering::SeqCst);
                    return Err(e);
                }
                written += 1;
                bar.inc();
            }
        }
        Ok(written)
    })
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

/// The results file, opened for appending whole lines.
struct Appender {
    file: File,
    path: PathBuf,
    synced: Instant,
}

impl Appender {
    fn open(path: &Path) -> Result<Appender> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        // Wall time only paces fsync calls; it never reaches an output.
        #[allow(clippy::disallowed_methods)]
        let synced = Instant::now();
        Ok(Appender {
            file,
            path: path.to_path_buf(),
            synced,
        })
    }

    /// One `write` per row: a killed process leaves whole rows, and the
    /// kernel has them; a power cut may tear the last one, which resume
    /// cuts off.
    fn append(&mut self, row: &str) -> Result<()> {
        self.file
            .write_all(row.as_bytes())
            .map_err(|e| Error::io(&self.path, e))?;
        if self.synced.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    // Wall time only paces fsync calls; it never reaches an output.
    #[allow(clippy::disallowed_methods)]
    fn sync(&mut self) -> Result<()> {
        self.synced = Instant::now();
        self.file.sync_data().map_err(|e| Error::io(&self.path, e))
    }
}

/// Rewrites a results file with its rows in grid order (after a resume
/// that filled gaps), atomically.
fn sort_in_place(path: &Path) -> Result<()> {
    let file = ResultsFile::read(path)?;
    let text = super::merge::join(&[(path.display().to_string(), file)])?;
    crate::report::write_atomically(path, text.as_bytes())
}
