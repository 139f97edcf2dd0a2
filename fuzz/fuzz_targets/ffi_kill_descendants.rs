//! `sysprims_kill_descendants(<no such PID>, SIGTERM, options_json)`: see `sysprims_ffi::fuzzing::kill_descendants`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::kill_descendants));
