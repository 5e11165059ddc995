//! The real agent behind `lbsim worker --exec`: it detects what the
//! machine offers, registers it, and runs each leased test as a process
//! group of its own, with its own devices, a time limit, cancellation, a
//! log file and measured load. The fake fleet (`lbsim worker`) shares its
//! loop (`lease_loop`), with runs that sleep.

pub mod detect;
pub mod devices;
pub mod exec;
pub mod lease_loop;
pub mod load;
pub mod logs;
pub mod process;
pub mod template;
pub mod wire;
