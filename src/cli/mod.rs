//! The command line: clap types, and one small function per command. Every
//! function turns flags into a run request (or library options), runs, and
//! prints; no logic a test could not reach through the library lives here.
//!
//! Files import downwards only: `dispatch` → `args` → each command →
//! `options`, `output`. No two files import each other, and nothing imports
//! this one.

#[macro_use]
mod output;
mod args;
mod benchmark;
mod cancel;
mod dashboard;
mod determinism;
mod diff;
mod dispatch;
mod fidelity;
mod list;
mod load;
mod options;
mod plan;
mod replay;
mod scenario;
mod serve;
mod spike;
mod stress;
mod submit;
mod submit_junit;
mod submit_summary;
mod submit_wait;
mod sweep;
mod visualize;
mod worker;
mod worker_args;
mod worker_exec;

pub use dispatch::main;
