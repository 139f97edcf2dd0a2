//! `sysprims_process_list(options_json)`: see `sysprims_ffi::fuzzing::process_list`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::process_list));
