//! `cmdline`/`environ`, `btime`, the `exe` link, fd link targets, `fdinfo`: see `sysprims::fuzzing::proc_small`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::proc_small));
