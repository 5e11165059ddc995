//! The live terminal dashboard: a model of what a run (or a coordinator)
//! is doing, panes that draw it with ratatui, keys as a pure function, and
//! the terminal's lifecycle.
//!
//! The live loops: [`driver::watch_run`] paces a prepared run and
//! [`monitor::watch_coordinator`] polls a coordinator, both drawing on a
//! [`screen::Screen`] (the terminal, or an off-screen one in tests).
//!
//! Two feeds fill one model ([`DashboardState`]): a simulation's facts
//! ([`DashboardState::on_decision`], [`DashboardState::on_final`],
//! [`DashboardState::sync_pool`], …) and a coordinator's `/v1/status`
//! document ([`DashboardState::on_status`]). The model never reads a clock:
//! only the driver's pacing does ([`pacing`]), and the run never sees it.
//!
//! ```
//! use lbsim::dashboard::{render, DashboardState, Speed, Theme, UiState};
//! use lbsim::scenario::StressOptions;
//!
//! let scenario = StressOptions { workers: 4, tests: 20, ..Default::default() }.to_scenario()?;
//! let state = DashboardState::for_simulation(&scenario, "stress");
//! let screen = render::draw_to_buffer(&state, &UiState::new(Speed::Max), &Theme::mono(), 80, 24);
//! assert!(render::buffer_text(&screen).contains("lbsim stress"));
//! # Ok::<(), lbsim::Error>(())
//! ```

pub mod driver;
pub mod events;
mod feed;
pub mod feeder;
pub mod keys;
pub mod layout;
pub mod monitor;
mod monitor_feed;
pub mod pacing;
pub mod panes;
pub mod render;
pub mod screen;
pub mod series;
mod sim_feed;
pub mod state;
pub mod status;
pub mod svg;
pub mod terminal;
pub mod theme;
pub mod window;
pub mod workers;

pub use keys::{handle, Pane, Speed, UiState};
pub use state::{DashboardState, Source, StatusCounts};
pub use status::StatusDoc;
pub use theme::Theme;
