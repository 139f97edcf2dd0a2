//! `/proc/<pid>/cgroup` and `cgroup.events`: see `sysprims::fuzzing::cgroup_files`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::cgroup_files));
