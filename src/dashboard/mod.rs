//! The live terminal dashboard: a model of what a run (or a coordinator)
//! is doing, panes that draw it with ratatui, keys as a pure function, and
//! the terminal's lifecycle.

pub mod status;

pub use status::StatusDoc;
