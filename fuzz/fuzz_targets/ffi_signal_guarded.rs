//! `sysprims_signal_guarded(identity_json, 0)`: see `sysprims_ffi::fuzzing::signal_guarded`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::signal_guarded));
