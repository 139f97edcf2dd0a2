//! `sysprims_ports(filter_json)` (parse and validate): see `sysprims_ffi::fuzzing::ports`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::ports));
