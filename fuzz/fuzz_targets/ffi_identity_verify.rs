//! `sysprims_identity_verify(identity_json)`: see `sysprims_ffi::fuzzing::identity_verify`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::c_abi(data, sysprims_ffi::fuzzing::identity_verify));
