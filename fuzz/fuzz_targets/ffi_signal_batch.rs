//! `sysprims_signal_batch(pids_json, 0)`: see `sysprims_ffi::fuzzing::signal_batch`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::signal_batch));
