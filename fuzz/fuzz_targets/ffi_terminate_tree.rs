//! `sysprims_terminate_tree(<no such PID>, config_json)`: see `sysprims_ffi::fuzzing::terminate_tree`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::terminate_tree));
