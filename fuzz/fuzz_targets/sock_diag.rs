//! one `recv` of a `NETLINK_SOCK_DIAG` dump: see `sysprims::fuzzing::sock_diag`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sysprims_fuzz::parser(data, sysprims::fuzzing::sock_diag));
