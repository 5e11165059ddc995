//! lbsim-core: the simulator of lbsim, a deterministic discrete-event
//! simulator for an adaptive load balancer, with nothing that opens a
//! socket, a terminal or a database (the coordinator, its client, the
//! dashboard and the command line live in the other crates of the
//! workspace; the `lbsim` package re-exports this one).
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
//! with every default applied once.
//!
//! ```
//! use lbsim_core::engine::{self, NoObserver};
//! use lbsim_core::scenario::StressOptions;
//!
//! let scenario = StressOptions { workers: 5, tests: 200, ..Default::default() }.to_scenario()?;
//! let out = engine::run(&scenario, &mut NoObserver)?;
//! assert_eq!(out.metrics.total_tests, 200);
//! # Ok::<(), lbsim_core::Error>(())
//! ```

#![warn(unreachable_pub)]
#![warn(missing_docs)]

pub mod balancer;
pub mod compare;
pub mod console;
pub mod engine;
pub mod error;
pub mod hash;
pub mod input;
pub mod metrics;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod workload;

pub use error::{Error, Result};
