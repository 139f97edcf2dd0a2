//! `/proc/<pid>/stat` and the values derived from it: see `sysprims::fuzzing::proc_stat`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::proc_stat));
