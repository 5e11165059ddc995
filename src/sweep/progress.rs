//! The progress bar on stderr (cells done, cells/s, ETA), drawn only when
//! stderr is a terminal: a batch job's log stays clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar, or nothing.
pub(super) struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar over `total` cells, `done` of them already in the file; drawn
    /// only if `show` (the caller checks that stderr is a terminal).
    pub(super) fn new(total: usize, done: usize, show: bool) -> Progress {
        if !show {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{bar:30} {pos}/{len} cells  {per_sec}  ETA {eta}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_position(done as u64);
        bar.reset_eta();
        Progress(Some(bar))
    }

    pub(super) fn inc(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    /// Runs `f` (which prints) with the bar hidden, so lines and bar do
    /// not mix on one terminal.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
