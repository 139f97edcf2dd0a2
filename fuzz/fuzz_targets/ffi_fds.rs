//! `sysprims_fds(<self>, filter_json)`: see `sysprims_ffi::fuzzing::fds`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::fds));
