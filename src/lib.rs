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
//! The workspace's crates, all re-exported here under their old paths:
//! `lbsim-core` (the simulator: [`engine`], [`balancer`], [`scenario`],
//! [`workload`], [`metrics`], [`report`], [`run`], ...; no socket, terminal
//! or database), `lbsim-client` ([`client`], with the wire types
//! [`service::api`]) and `lbsim-service` ([`service`], the coordinator).
//! This package adds the command line, the dashboard, charts, sweeps and
//! the load generator.
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

pub mod agent;
pub mod cli;
pub mod dashboard;
pub(crate) mod fidelity;
pub(crate) mod loadgen;
pub(crate) mod plan;
pub mod sweep;
pub mod visualize;

pub use lbsim_client as client;
pub use lbsim_core::{
    balancer, compare, console, engine, error, hash, input, metrics, report, run, scenario, sim,
    workload,
};
pub use lbsim_service as service;

pub use lbsim_core::{Error, Result};
