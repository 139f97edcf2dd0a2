//! Everything that talks to the operating system. All `unsafe` in sysprims lives below here,
//! in modules that say `#![allow(unsafe_code)]` and justify each block.
//!
//! The rest of the crate sees one backend through the `process` facade, whose functions have
//! the same signatures on every platform.

#[cfg(target_os = "linux")]
pub(crate) mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::process;

#[cfg(not(target_os = "linux"))]
pub(crate) mod unsupported;
#[cfg(not(target_os = "linux"))]
pub(crate) use unsupported::process;
