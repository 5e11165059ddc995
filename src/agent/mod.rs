//! The real agent behind `lbsim worker --exec`: it detects what the
//! machine offers, registers it, and runs each leased test as a process
//! group of its own, with its own devices, a time limit, cancellation, a
//! log file and measured load. The fake fleet (`lbsim worker`) shares its
//! loop (`lease_loop`), with runs that sleep.

pub(crate) mod detect;
pub(crate) mod devices;
pub(crate) mod exec;
pub(crate) mod lease_loop;
pub(crate) mod load;
pub(crate) mod logs;
pub mod process;
pub(crate) mod template;
pub(crate) mod wire;
