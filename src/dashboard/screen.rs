//! Where the driver draws and where its keys come from: the real terminal
//! (crossterm, behind the [`TerminalGuard`]), or an off-screen one fed a
//! script of keys, so a whole dashboard session runs in a test through the
//! very loop a user sees.

use std::collections::VecDeque;
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;

use super::keys::UiState;
use super::render;
use super::state::DashboardState;
use super::terminal::TerminalGuard;
use super::theme::Theme;
use crate::error::{Error, Result};

/// What the screen reported while the driver waited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Key(KeyEvent),
    /// The terminal changed size: draw again.
    Resized,
    /// Nothing within the wait.
    Idle,
}

/// A surface to draw the dashboard on, with its keyboard.
pub trait Screen {
    fn draw(&mut self, state: &DashboardState, ui: &UiState) -> Result<()>;

    /// Waits at most `timeout` for a key (or a resize).
    fn next_input(&mut self, timeout: Duration) -> Result<Input>;
}

/// A terminal error as the CLI reports it (exit 1).
fn terminal_error(e: std::io::Error) -> Error {
    Error::io("<terminal>", e)
}

/// The user's terminal: raw mode and the alternate screen while it lives,
/// restored when it drops (on every path out).
pub(crate) struct TerminalScreen {
    guard: TerminalGuard,
    theme: Theme,
}

impl TerminalScreen {
    pub(crate) fn enter(theme: Theme) -> Result<TerminalScreen> {
        let guard = TerminalGuard::enter().map_err(terminal_error)?;
        Ok(TerminalScreen { guard, theme })
    }
}

impl Screen for TerminalScreen {
    fn draw(&mut self, state: &DashboardState, ui: &UiState) -> Result<()> {
        let theme = &self.theme;
        self.guard
            .terminal()
            .draw(|frame| render::draw(frame, state, ui, theme))
            .map_err(terminal_error)?;
        Ok(())
    }

    fn next_input(&mut self, timeout: Duration) -> Result<Input> {
        if !event::poll(timeout).map_err(terminal_error)? {
            return Ok(Input::Idle);
        }
        Ok(match event::read().map_err(terminal_error)? {
            Event::Key(key) => Input::Key(key),
            Event::Resize(..) => Input::Resized,
            _ => Input::Idle,
        })
    }
}

/// After this many inputs past its script a scripted screen quits on its
/// own (at most about 1000 s of waits), so a script that never lets the
/// run end cannot hang a test.
pub(crate) const SCRIPT_INPUT_LIMIT: u64 = 20_000;

/// An off-screen terminal of a fixed size with a script of keys, one per
/// wait, at once. Past the script it waits like a user who watches: each
/// wait lasts its timeout, as on a terminal where nobody types, and once
/// the run's summary is on screen it presses `q`.
pub struct ScriptedScreen {
    terminal: Terminal<TestBackend>,
    theme: Theme,
    script: VecDeque<KeyEvent>,
    finished_drawn: bool,
    inputs: u64,
    /// Frames drawn so far.
    pub frames: u64,
}

impl ScriptedScreen {
    pub fn new(width: u16, height: u16, keys: impl IntoIterator<Item = KeyEvent>) -> Self {
        ScriptedScreen {
            terminal: Terminal::new(TestBackend::new(width, height))
                .expect("a test backend never fails"),
            theme: Theme::mono(),
            script: keys.into_iter().collect(),
            finished_drawn: false,
            inputs: 0,
            frames: 0,
        }
    }

    /// The last frame drawn.
    pub fn buffer(&self) -> &Buffer {
        self.terminal.backend().buffer()
    }
}

impl Screen for ScriptedScreen {
    fn draw(&mut self, state: &DashboardState, ui: &UiState) -> Result<()> {
        let theme = &self.theme;
        self.terminal
            .draw(|frame| render::draw(frame, state, ui, theme))
            .expect("a test backend never fails");
        self.frames += 1;
        self.finished_drawn = state.is_finished();
        Ok(())
    }

    fn next_input(&mut self, timeout: Duration) -> Result<Input> {
        if let Some(key) = self.script.pop_front() {
            return Ok(Input::Key(key));
        }
        self.inputs += 1;
        if self.finished_drawn || self.inputs >= SCRIPT_INPUT_LIMIT {
            let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
            return Ok(Input::Key(q));
        }
        std::thread::sleep(timeout);
        Ok(Input::Idle)
    }
}
