//! lbsim's integration tests, in one binary so the crate links once.

mod cli_stress;
mod common;
mod determinism;
mod golden;
mod invariants;
