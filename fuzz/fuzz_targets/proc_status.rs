//! `/proc/<pid>/status`: see `sysprims::fuzzing::proc_status`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::proc_status));
