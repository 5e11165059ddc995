//! lbsim's Python extension module (`lbsim._native`): the in-process
//! balancer (`Core`), the simulator's runs (`run`, `benchmark`, `sweep`)
//! and the name tables. The pure-Python package `lbsim` wraps it.

mod errors;
mod interrupt;
mod records;
mod service;
mod sim;

use pyo3::prelude::*;

/// The twelve policies, as `(name, description)` in the table's order.
#[pyfunction]
fn schedulers() -> Vec<(&'static str, &'static str)> {
    lbsim::balancer::policy::SCHEDULERS
        .iter()
        .map(|s| (s.id, s.description))
        .collect()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(schedulers, m)?)?;
    m.add_class::<service::Core>()?;
    sim::register(m)?;
    Ok(())
}
