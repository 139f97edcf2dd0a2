//! macOS: what is written so far of its backend. The record parsers are pure functions over
//! bytes, compiled and tested on every platform (no Mac runs here; see the README's
//! Platforms section); the backend that calls `sysctl(KERN_PROCARGS2)` and `proc_pidinfo` is
//! built on the backend boundary of the Windows work.

// Until the macOS backend calls them, the parsers are used by their tests and the fuzz
// targets only.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) mod parse;
