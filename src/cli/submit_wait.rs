//! `lbsim submit --wait`: polls the submitted tests until every one is
//! final (a progress bar on a terminal, a line now and then otherwise),
//! then prints the summary, writes JUnit XML, and fails unless all passed.
//! Ctrl-C (or SIGTERM, as a CI job's cancel sends) cancels the tests not
//! yet final, then reports.

use super::submit_junit;
use super::submit_summary::Finished;
use crate::agent::lease_loop::now;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::service::api::{TestState, TestView, MAX_LIST};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct WaitOptions {
    pub(crate) junit: Option<PathBuf>,
}

/// The tests not listed one by one but by page, above this many.
const ONE_BY_ONE: usize = 50;
/// Tests whose log tail is fetched and shown, at most.
const MAX_TAILS: usize = 50;

pub(crate) fn follow(client: &Client, ids: &[u64], opts: &WaitOptions) -> Result<()> {
    let started = now();
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let mut open: BTreeMap<u64, ()> = ids.iter().map(|&i| (i, ())).collect();
    let mut done: BTreeMap<u64, TestView> = BTreeMap::new();
    let mut progress = Progress::new(ids.len() as u64);
    let mut cancelled_open = false;
    while !open.is_empty() {
        if interrupted.load(Ordering::SeqCst) && !cancelled_open {
            cancel_open(client, &open);
            cancelled_open = true;
        }
        for view in poll(client, &open)? {
            if view.state.is_final() && open.remove(&view.test_id).is_some() {
                done.insert(view.test_id, view);
            }
        }
        progress.show(&done);
        if !open.is_empty() {
            std::thread::sleep(pause(open.len()));
        }
    }
    progress.finish();
    let finished = with_logs(client, ids, done);
    let wall = now() - started;
    super::submit_summary::print(&finished, wall)?;
    if let Some(path) = &opts.junit {
        submit_junit::write(path, &finished, wall)?;
    }
    let failing = finished
        .iter()
        .filter(|f| f.view.state != TestState::Completed)
        .count();
    match (failing, interrupted.load(Ordering::SeqCst)) {
        (0, false) => Ok(()),
        (_, true) => Err(Error::Run(
            "interrupted: the tests not yet final were cancelled".into(),
        )),
        (n, false) => Err(Error::Run(format!(
            "{n} of {} tests did not pass",
            ids.len()
        ))),
    }
}

/// Longer pauses for more open tests (a page of 10,000 is not free).
fn pause(open: usize) -> Duration {
    Duration::from_millis((100 + open as u64 / 20).min(2000))
}

/// The current views of the open tests.
fn poll(client: &Client, open: &BTreeMap<u64, ()>) -> Result<Vec<TestView>> {
    let err = |e: crate::client::ClientError| Error::Run(format!("following the tests: {e}"));
    if open.len() <= ONE_BY_ONE {
        return open
            .keys()
            .map(|&id| client.get_test(id).map_err(err))
            .collect();
    }
    let (Some(&low), Some(&high)) = (open.keys().next(), open.keys().next_back()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut after = low - 1;
    loop {
        let page = client.list_tests(None, after, MAX_LIST).map_err(err)?;
        let last = page.tests.last().map(|t| t.test_id);
        out.extend(
            page.tests
                .into_iter()
                .filter(|t| open.contains_key(&t.test_id)),
        );
        match (page.next_after, last) {
            (Some(next), Some(last)) if last < high => after = next,
            _ => return Ok(out),
        }
    }
}

/// Cancels every test not yet final (best effort: one may end meanwhile).
fn cancel_open(client: &Client, open: &BTreeMap<u64, ()>) {
    crate::console::print_err(&format!(
        "lbsim submit: interrupted: cancelling {} tests (Ctrl-C again quits at once)\n",
        open.len()
    ));
    for &id in open.keys() {
        let _ = client.cancel_test(id);
    }
}

/// The final views in submission order, with the log tails of (the first
/// `MAX_TAILS`) tests that did not pass.
fn with_logs(client: &Client, ids: &[u64], mut done: BTreeMap<u64, TestView>) -> Vec<Finished> {
    let mut tails = 0;
    ids.iter()
        .filter_map(|id| done.remove(id))
        .map(|view| {
            let wanted = view.state != TestState::Completed && view.has_log && tails < MAX_TAILS;
            tails += usize::from(wanted);
            let log = wanted.then(|| client.test_log(view.test_id).ok()).flatten();
            Finished { view, log }
        })
        .collect()
}

/// A bar on a terminal (stderr), else a line when the counts change, at
/// most every two seconds.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    last_line: Option<Instant>,
    last_done: usize,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} final {msg} [{elapsed}]",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            total,
            last_line: None,
            last_done: 0,
        }
    }

    fn show(&mut self, done: &BTreeMap<u64, TestView>) {
        let bad = done
            .values()
            .filter(|v| v.state != TestState::Completed)
            .count();
        if let Some(bar) = &self.bar {
            bar.set_position(done.len() as u64);
            bar.set_message(format!("({bad} not passed)"));
            return;
        }
        let due = self
            .last_line
            .is_none_or(|t| now() - t >= Duration::from_secs(2));
        if due && done.len() != self.last_done {
            crate::console::print_err(&format!(
                "lbsim submit: {}/{} final ({bad} not passed)\n",
                done.len(),
                self.total
            ));
            self.last_line = Some(now());
            self.last_done = done.len();
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
