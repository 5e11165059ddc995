//! The live terminal dashboard: a model of what a run (or a coordinator)
//! is doing, panes that draw it with ratatui, keys as a pure function, and
//! the terminal's lifecycle.

pub mod events;
pub mod keys;
pub mod layout;
mod monitor_feed;
pub mod panes;
pub mod render;
pub mod series;
mod sim_feed;
pub mod state;
pub mod status;
pub mod theme;
pub mod window;
pub mod workers;

pub use keys::{handle, Action, Pane, Speed, UiState};
pub use sim_feed::{MINUTE_S, NOW_WINDOW_S};
pub use state::{Counts, DashboardState, Figures, Source};
pub use status::StatusDoc;
pub use theme::Theme;
