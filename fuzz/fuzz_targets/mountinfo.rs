//! `/proc/self/mountinfo` (the cgroup2 mount): see `sysprims::fuzzing::mountinfo`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::mountinfo));
