//! `sysprims_spawn_in_group(config_json)` (parse and validate): see `sysprims_ffi::fuzzing::spawn_in_group`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::spawn_in_group));
