//! lbsim's integration tests, in one binary so the crate links once. Each
//! module opens with a line on what it covers.

mod benchmark;
mod cli_help;
mod cli_layout;
mod cli_options;
mod cli_readme;
mod cli_stress;
mod common;
mod compare;
mod config;
mod dashboard;
mod decision_log;
mod determinism;
mod golden;
mod invariants;
mod mmc;
mod policies;
mod replay;
mod scenarios;
mod serve;
mod serve_support;
mod sweep;
mod visualize;
