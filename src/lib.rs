//! lbsim: a deterministic discrete-event simulator for an adaptive load balancer.
//!
//! Data flows one way: a [`scenario::Scenario`] becomes timed facts
//! ([`workload`]), which the [`engine`] feeds through the [`balancer`] core in
//! simulated time ([`sim`]), handing every fact to the [`metrics`] and to
//! observers; [`report`] writes the results. The same balancer core never
//! reads a clock, so a real coordinator could drive it too.
//!
//! A [`run::RunRequest`] is the one way to build a run as the command line
//! does: a source (stress flags, a named scenario, the spike, a trace, a
//! benchmark cell, a sweep's cell) plus the user's overrides and outputs,
//! with every default applied once. [`cli`] only turns flags into requests.
//!
//! ```
//! use lbsim::engine::{self, NoObserver};
//! use lbsim::scenario::StressOptions;
//!
//! let scenario = StressOptions { workers: 5, tests: 200, ..Default::default() }.to_scenario()?;
//! let out = engine::run(&scenario, &mut NoObserver)?;
//! assert_eq!(out.metrics.total_tests, 200);
//! assert_eq!(out.metrics.completed_tests + out.metrics.pending_tests + out.metrics.running_tests, 200);
//! # Ok::<(), lbsim::Error>(())
//! ```

#![warn(unreachable_pub)]

pub mod balancer;
pub mod cli;
pub mod client;
pub mod compare;
pub mod console;
pub mod dashboard;
pub mod engine;
pub mod error;
pub mod fidelity;
pub mod hash;
pub mod input;
pub mod loadgen;
pub mod metrics;
pub mod report;
pub mod run;
pub mod scenario;
pub mod service;
pub mod sim;
pub mod sweep;
pub mod visualize;
pub mod workload;

pub use error::{Error, Result};
