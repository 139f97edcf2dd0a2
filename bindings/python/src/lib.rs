//! Python binding of sysprims: the `sysprims._sysprims` extension module, which the
//! `sysprims` Python package re-exports.
#![deny(unsafe_code)]

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _sysprims(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
