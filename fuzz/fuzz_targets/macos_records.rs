//! macOS's `KERN_PROCARGS2` buffer and `proc_bsdinfo` record, parsed on any host: see
//! `sysprims::fuzzing::macos_records`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::macos_records));
