//! `sysprims_timeout_run(request_json)` (parse and validate): see `sysprims_ffi::fuzzing::timeout_run`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::timeout_run));
