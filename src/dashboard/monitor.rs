//! Watching a running coordinator: a background thread polls
//! `GET /v1/status` and hands each answer over a channel, so the screen
//! redraws and answers keys however slow the network is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::keys::{handle, Action, Speed, UiState};
use super::pacing::FRAME;
use super::screen::{Input, Screen};
use super::state::DashboardState;
use super::status::StatusDoc;
use crate::client::Client;
use crate::error::Result;

/// One poll's answer.
#[derive(Debug)]
pub enum Poll {
    Status(Box<StatusDoc>),
    /// Why the poll failed, in one line.
    Failed(String),
}

/// The polling thread; it stops at its next look once this drops (a call
/// in flight finishes first, on its own thread).
pub struct Poller {
    answers: Receiver<Poll>,
    stop: Arc<AtomicBool>,
}

impl Poller {
    /// Polls `client` now and then every `interval`.
    pub fn start(client: Client, interval: Duration) -> Poller {
        let (tx, answers) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                if tx.send(poll(&client)).is_err() {
                    return;
                }
                // Sleep in slices, so a quit is seen within one.
                let mut left = interval;
                while !left.is_zero() && !stopped.load(Ordering::Relaxed) {
                    let slice = left.min(FRAME);
                    thread::sleep(slice);
                    left -= slice;
                }
            }
        });
        Poller { answers, stop }
    }

    /// The next answer, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Poll> {
        self.answers.recv_timeout(timeout).ok()
    }

    /// Every answer that has arrived, without waiting.
    fn drain(&self) -> Vec<Poll> {
        self.answers.try_iter().collect()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One `GET /v1/status`, read as the server's own type.
fn poll(client: &Client) -> Poll {
    let answer = client
        .status()
        .map_err(|e| e.to_string())
        .and_then(|v| serde_json::from_value::<StatusDoc>(v).map_err(|e| e.to_string()));
    match answer {
        Ok(doc) => Poll::Status(Box::new(doc)),
        Err(message) => Poll::Failed(message.lines().next().unwrap_or("").to_owned()),
    }
}

/// Watches the coordinator `client` talks to until `q`. While paused, only
/// the newest answer is kept, and shown on resume.
pub fn watch_coordinator(
    client: Client,
    interval: Duration,
    screen: &mut dyn Screen,
) -> Result<()> {
    let mut state = DashboardState::for_monitor(client.url(), interval.as_secs_f64());
    let mut ui = UiState::new(Speed::Max);
    let poller = Poller::start(client, interval);
    let mut held: Option<Poll> = None;
    screen.draw(&state, &ui)?;
    loop {
        let mut dirty = false;
        match screen.next_input(FRAME)? {
            Input::Key(key) => match handle(key, &mut ui) {
                Action::Quit => return Ok(()),
                Action::None => {}
                _ => dirty = true,
            },
            Input::Resized => dirty = true,
            Input::Idle => {}
        }
        let answers = poller.drain();
        if ui.paused {
            held = answers.into_iter().last().or(held);
        } else {
            for answer in held.take().into_iter().chain(answers) {
                apply(&mut state, answer);
                dirty = true;
            }
        }
        if dirty {
            screen.draw(&state, &ui)?;
        }
    }
}

/// A poll's answer into the model.
pub(crate) fn apply(state: &mut DashboardState, answer: Poll) {
    match answer {
        Poll::Status(doc) => state.on_status(&doc),
        Poll::Failed(message) => state.on_poll_failed(&message),
    }
}
