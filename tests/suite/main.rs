//! lbsim's integration tests, in one binary so the crate links once. Each
//! module opens with a line on what it covers.

// Tests may print what they measured; the CLI never does (clippy.toml).
#![allow(clippy::disallowed_macros)]

mod agent;
mod benchmark;
mod cli_findings;
mod cli_help;
mod cli_layout;
mod cli_options;
mod cli_readme;
mod cli_stress;
mod common;
mod compare;
mod compare_view;
mod config;
mod dashboard;
mod dashboard_live;
mod dashboard_tmux;
mod dashboard_web;
mod decision_log;
mod determinism;
mod docs_blocks;
mod fidelity;
mod fn_length;
mod golden;
mod hardening;
mod hostile;
mod invariants;
mod junit;
mod mmc;
mod plan;
mod policies;
mod record_replay;
mod replay;
mod reported_load;
mod scenarios;
mod serve;
mod serve_connections;
mod serve_full_disk;
mod serve_kill;
mod serve_store;
mod serve_support;
mod serve_work;
mod slurm;
mod sweep;
mod visualize;
