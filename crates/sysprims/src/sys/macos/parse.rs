//! Pure parsers for the two records macOS's kernel hands a process reader: the
//! `KERN_PROCARGS2` buffer of `sysctl(3)` (argv and environment) and the `proc_bsdinfo` record
//! of `proc_pidinfo(PROC_PIDTBSDINFO)` (parent, group, owner, state, start time).
//!
//! No I/O and no `unsafe` here: each function takes the bytes the kernel returned and checks
//! every length itself, so the parsers compile and are tested on every platform (this machine
//! cannot run macOS), including on truncated and hostile buffers. The macOS backend copies the
//! kernel's bytes into a buffer and hands them over; it never casts a pointer to the struct.
//!
//! Both records are in the machine's byte order. Every Mac sysprims targets (x86_64 and
//! arm64) is little-endian, so the parsers read little-endian fields on any host.

/// Why a buffer could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError(pub &'static str);

/// What a `KERN_PROCARGS2` buffer holds, borrowed from it.
///
/// The kernel lays it out as: `argc` (a 32-bit int), the path the process was executed from
/// (NUL-terminated, then NUL padding), `argc` NUL-terminated arguments, then the environment
/// strings up to an empty string, after which come the "apple" strings
/// (`executable_path=...`, `ptr_munge=...`), which are not the environment and are not
/// returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ProcArgs<'a> {
    /// The path given to `execve`, as the kernel recorded it (may be relative, or empty).
    pub exec_path: &'a [u8],
    /// The arguments, `argv[0]` first. Fewer than `argc` when the buffer ends early.
    pub argv: Vec<&'a [u8]>,
    /// The environment strings (`KEY=value`), in order.
    pub env: Vec<&'a [u8]>,
    /// The buffer ended before `argc` arguments and the environment's terminator were found
    /// (the kernel cuts the copy at the size the caller asked for, or the process rewrote its
    /// argument area).
    pub truncated: bool,
}

/// Parse a `KERN_PROCARGS2` buffer.
///
/// Lengths are never trusted: `argc` bounds the arguments read but not what is allocated (a
/// hostile `argc` of 2^31 costs nothing), a string without its NUL ends at the end of the
/// buffer, and a negative `argc` or a buffer shorter than `argc` itself is an error.
pub(crate) fn parse_procargs2(bytes: &[u8]) -> Result<ProcArgs<'_>, ParseError> {
    let Some((head, rest)) = bytes.split_first_chunk::<4>() else {
        return Err(ParseError("KERN_PROCARGS2 buffer shorter than its argc"));
    };
    let argc = i32::from_le_bytes(*head);
    let Ok(argc) = usize::try_from(argc) else {
        return Err(ParseError("KERN_PROCARGS2 argc is negative"));
    };
    let mut out = ProcArgs::default();
    let mut strings = NulStrings(rest);
    match strings.next() {
        Some(path) => out.exec_path = path,
        None => {
            // Only the count: a process whose argument area the reader may not see.
            out.truncated = argc > 0;
            return Ok(out);
        }
    }
    strings.skip_padding();
    while out.argv.len() < argc {
        match strings.next() {
            Some(arg) => out.argv.push(arg),
            None => {
                out.truncated = true;
                return Ok(out);
            }
        }
    }
    loop {
        match strings.next() {
            Some([]) => return Ok(out),
            Some(var) => out.env.push(var),
            None => {
                // The environment's terminator was not seen: the last string may be cut.
                out.truncated = true;
                return Ok(out);
            }
        }
    }
}

/// NUL-terminated strings read one after another from a buffer; the last one may lack its NUL.
struct NulStrings<'a>(&'a [u8]);

impl<'a> NulStrings<'a> {
    /// Skip the NULs that pad the executable path to the first argument.
    fn skip_padding(&mut self) {
        let start = self.0.iter().position(|&b| b != 0).unwrap_or(self.0.len());
        self.0 = &self.0[start..];
    }
}

impl<'a> Iterator for NulStrings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        match self.0.iter().position(|&b| b == 0) {
            Some(end) => {
                let s = &self.0[..end];
                self.0 = &self.0[end + 1..];
                Some(s)
            }
            None => {
                let s = self.0;
                self.0 = &[];
                Some(s)
            }
        }
    }
}

/// `MAXCOMLEN` from `<sys/param.h>`.
const MAXCOMLEN: usize = 16;

/// Size of `struct proc_bsdinfo` (`PROC_PIDTBSDINFO_SIZE`).
pub(crate) const PROC_BSDINFO_SIZE: usize = 136;

/// Byte offsets of the `struct proc_bsdinfo` fields sysprims reads (`<sys/proc_info.h>`;
/// checked against the `libc` crate's definition when compiled for macOS, below).
mod offset {
    pub const FLAGS: usize = 0;
    pub const STATUS: usize = 4;
    pub const XSTATUS: usize = 8;
    pub const PID: usize = 12;
    pub const PPID: usize = 16;
    pub const UID: usize = 20;
    pub const GID: usize = 24;
    pub const RUID: usize = 28;
    pub const COMM: usize = 48;
    pub const NAME: usize = 64;
    pub const NFILES: usize = 96;
    pub const PGID: usize = 100;
    pub const NICE: usize = 116;
    pub const START_TVSEC: usize = 120;
    pub const START_TVUSEC: usize = 128;
}

#[cfg(target_os = "macos")]
const _: () = {
    use core::mem::{offset_of, size_of};
    type B = libc::proc_bsdinfo;
    assert!(size_of::<B>() == PROC_BSDINFO_SIZE);
    assert!(offset_of!(B, pbi_flags) == offset::FLAGS);
    assert!(offset_of!(B, pbi_status) == offset::STATUS);
    assert!(offset_of!(B, pbi_xstatus) == offset::XSTATUS);
    assert!(offset_of!(B, pbi_pid) == offset::PID);
    assert!(offset_of!(B, pbi_ppid) == offset::PPID);
    assert!(offset_of!(B, pbi_uid) == offset::UID);
    assert!(offset_of!(B, pbi_gid) == offset::GID);
    assert!(offset_of!(B, pbi_ruid) == offset::RUID);
    assert!(offset_of!(B, pbi_comm) == offset::COMM);
    assert!(offset_of!(B, pbi_name) == offset::NAME);
    assert!(offset_of!(B, pbi_nfiles) == offset::NFILES);
    assert!(offset_of!(B, pbi_pgid) == offset::PGID);
    assert!(offset_of!(B, pbi_nice) == offset::NICE);
    assert!(offset_of!(B, pbi_start_tvsec) == offset::START_TVSEC);
    assert!(offset_of!(B, pbi_start_tvusec) == offset::START_TVUSEC);
};

/// A process's state as `pbi_status` gives it (`p_stat` values of `<sys/proc.h>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BsdStatus {
    /// `SIDL`: being created by `fork`.
    Idle,
    /// `SRUN`: runnable.
    Running,
    /// `SSLEEP`: sleeping on an address.
    Sleeping,
    /// `SSTOP`: stopped (a signal or a debugger).
    Stopped,
    /// `SZOMB`: exited, not yet waited for.
    Zombie,
    /// A value this parser does not know.
    Other(u32),
}

impl BsdStatus {
    fn from_raw(raw: u32) -> BsdStatus {
        match raw {
            1 => BsdStatus::Idle,
            2 => BsdStatus::Running,
            3 => BsdStatus::Sleeping,
            4 => BsdStatus::Stopped,
            5 => BsdStatus::Zombie,
            other => BsdStatus::Other(other),
        }
    }
}

/// `PROC_FLAG_SYSTEM`: a system process (the kernel's).
pub(crate) const PROC_FLAG_SYSTEM: u32 = 0x1;
/// `PROC_FLAG_INEXIT`: the process is exiting.
pub(crate) const PROC_FLAG_INEXIT: u32 = 0x4;

/// The fields of `struct proc_bsdinfo` that sysprims uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BsdInfo {
    /// `pbi_flags` (`PROC_FLAG_*`).
    pub flags: u32,
    /// `pbi_status`.
    pub status: BsdStatus,
    /// `pbi_xstatus`: the exit status of a zombie, in `wait(2)` form.
    pub exit_status: u32,
    pub pid: u32,
    pub ppid: u32,
    /// Effective user ID.
    pub uid: u32,
    /// Effective group ID.
    pub gid: u32,
    /// Real user ID.
    pub ruid: u32,
    /// The name: `pbi_name` (up to 32 bytes) when the kernel filled it, else `pbi_comm` (up
    /// to 16), cut at its first NUL.
    pub name: Vec<u8>,
    /// Open files (`pbi_nfiles`).
    pub nfiles: u32,
    /// Process group.
    pub pgid: u32,
    pub nice: i32,
    /// Start time, microseconds since the Unix epoch: with the PID, the process's identity on
    /// macOS.
    pub start_time_us: u64,
}

impl BsdInfo {
    /// Start time in whole milliseconds since the Unix epoch.
    pub(crate) fn start_time_ms(&self) -> u64 {
        self.start_time_us / 1000
    }

    /// A kernel process: never a target for signals.
    pub(crate) fn is_system(&self) -> bool {
        self.flags & PROC_FLAG_SYSTEM != 0
    }

    /// The process is part-way through exiting: its PID is about to be released.
    pub(crate) fn is_exiting(&self) -> bool {
        self.flags & PROC_FLAG_INEXIT != 0
    }
}

/// Parse the bytes of a `struct proc_bsdinfo`, as `proc_pidinfo(PROC_PIDTBSDINFO)` filled
/// them. `proc_pidinfo` returns the number of bytes it wrote: a short answer (an older kernel,
/// or a process that exited mid-call) is an error, not a record of zeros. Extra bytes after the
/// record are ignored. A microseconds field of a million or more is an error: no start time
/// is guessed.
pub(crate) fn parse_bsdinfo(bytes: &[u8]) -> Result<BsdInfo, ParseError> {
    if bytes.len() < PROC_BSDINFO_SIZE {
        return Err(ParseError("proc_bsdinfo shorter than its 136 bytes"));
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    let tvsec = u64_at(offset::START_TVSEC);
    let tvusec = u64_at(offset::START_TVUSEC);
    if tvusec >= 1_000_000 {
        return Err(ParseError("proc_bsdinfo start microseconds out of range"));
    }
    let Some(start_time_us) = tvsec
        .checked_mul(1_000_000)
        .and_then(|us| us.checked_add(tvusec))
    else {
        return Err(ParseError("proc_bsdinfo start seconds out of range"));
    };
    let name = cut_at_nul(&bytes[offset::NAME..offset::NAME + 2 * MAXCOMLEN]);
    let name = if name.is_empty() {
        cut_at_nul(&bytes[offset::COMM..offset::COMM + MAXCOMLEN])
    } else {
        name
    };
    Ok(BsdInfo {
        flags: u32_at(offset::FLAGS),
        status: BsdStatus::from_raw(u32_at(offset::STATUS)),
        exit_status: u32_at(offset::XSTATUS),
        pid: u32_at(offset::PID),
        ppid: u32_at(offset::PPID),
        uid: u32_at(offset::UID),
        gid: u32_at(offset::GID),
        ruid: u32_at(offset::RUID),
        name: name.to_vec(),
        nfiles: u32_at(offset::NFILES),
        pgid: u32_at(offset::PGID),
        nice: u32_at(offset::NICE) as i32,
        start_time_us,
    })
}

/// A fixed-size C string field up to its first NUL (all of it when it has none).
pub(crate) fn cut_at_nul(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    &field[..end]
}

/// The portable state of a process from its `proc_bsdinfo`: `pbi_status`, except that a
/// process already flagged `PROC_FLAG_INEXIT` but not yet a zombie is dead (it is part-way
/// through `exit`; signals no longer matter to it). `SIDL` (being forked) is `Unknown`:
/// macOS has no state the portable ones name for it.
pub(crate) fn process_state(info: &BsdInfo) -> crate::process::ProcessState {
    use crate::process::ProcessState;
    match info.status {
        BsdStatus::Zombie => ProcessState::Zombie,
        _ if info.is_exiting() => ProcessState::Dead,
        BsdStatus::Running => ProcessState::Running,
        BsdStatus::Sleeping => ProcessState::Sleeping,
        BsdStatus::Stopped => ProcessState::Stopped,
        BsdStatus::Idle | BsdStatus::Other(_) => ProcessState::Unknown,
    }
}

/// `ticks * numer / denom` without overflow (saturating at `u64::MAX`), for converting Mach
/// absolute time to nanoseconds with `mach_timebase_info`; a zero `denom` is taken as 1.
pub(crate) fn scale_ticks(ticks: u64, numer: u32, denom: u32) -> u64 {
    let scaled = u128::from(ticks) * u128::from(numer) / u128::from(denom.max(1));
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// Environment strings (`KEY=value`) as a map: a string without `=` is a key with an empty
/// value, an empty string is skipped, a later duplicate wins, and non-UTF-8 bytes are
/// replaced by U+FFFD.
pub(crate) fn env_map(vars: &[&[u8]]) -> std::collections::BTreeMap<String, String> {
    vars.iter()
        .filter(|var| !var.is_empty())
        .map(|var| {
            let (key, value) = match var.iter().position(|&b| b == b'=') {
                Some(eq) => (&var[..eq], &var[eq + 1..]),
                None => (*var, &var[..0]),
            };
            (
                String::from_utf8_lossy(key).into_owned(),
                String::from_utf8_lossy(value).into_owned(),
            )
        })
        .collect()
}

/// Size of `struct kinfo_proc` on 64-bit macOS (an `extern_proc` of 296 bytes, then an
/// `eproc` of 352), what `sysctl(CTL_KERN, KERN_PROC, ...)` returns per process. The `libc`
/// crate does not define it; the offsets below are `<sys/sysctl.h>`'s and `<sys/proc.h>`'s
/// under the LP64 layout (the same as golang.org/x/sys's generated `KinfoProc`, 0x288 bytes).
pub(crate) const KINFO_PROC_SIZE: usize = 648;

/// Byte offsets in `struct kinfo_proc`.
mod kinfo_offset {
    /// `kp_proc.p_starttime` (`p_un`): `tv_sec` (i64), `tv_usec` (i32).
    pub const START_SEC: usize = 0;
    pub const START_USEC: usize = 8;
    pub const FLAG: usize = 32;
    pub const STAT: usize = 36;
    pub const PID: usize = 40;
    pub const NICE: usize = 242;
    /// `p_comm`: `MAXCOMLEN + 1` bytes.
    pub const COMM: usize = 243;
    pub const XSTAT: usize = 280;
    /// `kp_eproc` starts at 296: `e_pcred.p_ruid` after the 72-byte lock and a pointer,
    /// `e_ucred.cr_uid` after `cr_ref`, its first group after `cr_ngroups`.
    pub const RUID: usize = 296 + 16 + 80;
    pub const UID: usize = 296 + 120 + 4;
    pub const GID: usize = 296 + 120 + 12;
    pub const PPID: usize = 296 + 264;
    pub const PGID: usize = 296 + 268;
}

/// `p_flag` bits (`<sys/proc.h>`): a system process; working on exiting.
const P_SYSTEM: u32 = 0x200;
const P_WEXIT: u32 = 0x2000;

/// Parse one `struct kinfo_proc` into the fields a `proc_bsdinfo` has (what
/// `sysctl(KERN_PROC)` answers for any user's process, where `PROC_PIDTBSDINFO` answers only
/// for the caller's own or as root). The start time is the same `p_start` both report. The
/// name is `p_comm` (16 bytes; `pbi_name`'s 32 are not in it); `nfiles` is 0 (not in it).
pub(crate) fn parse_kinfo_proc(bytes: &[u8]) -> Result<BsdInfo, ParseError> {
    use kinfo_offset as o;
    if bytes.len() < KINFO_PROC_SIZE {
        return Err(ParseError("kinfo_proc shorter than its 648 bytes"));
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
    let sec = i64::from_le_bytes(
        bytes[o::START_SEC..o::START_SEC + 8]
            .try_into()
            .unwrap_or([0; 8]),
    );
    let usec = u32_at(o::START_USEC) as i32;
    let (Ok(sec), Ok(usec)) = (u64::try_from(sec), u64::try_from(usec)) else {
        return Err(ParseError("kinfo_proc start time is negative"));
    };
    if usec >= 1_000_000 {
        return Err(ParseError("kinfo_proc start microseconds out of range"));
    }
    let Some(start_time_us) = sec
        .checked_mul(1_000_000)
        .and_then(|us| us.checked_add(usec))
    else {
        return Err(ParseError("kinfo_proc start seconds out of range"));
    };
    let p_flag = u32_at(o::FLAG);
    let mut flags = 0;
    if p_flag & P_SYSTEM != 0 {
        flags |= PROC_FLAG_SYSTEM;
    }
    if p_flag & P_WEXIT != 0 {
        flags |= PROC_FLAG_INEXIT;
    }
    Ok(BsdInfo {
        flags,
        status: BsdStatus::from_raw(u32::from(bytes[o::STAT])),
        exit_status: u32::from(u16::from_le_bytes([bytes[o::XSTAT], bytes[o::XSTAT + 1]])),
        pid: u32_at(o::PID),
        ppid: u32_at(o::PPID),
        uid: u32_at(o::UID),
        gid: u32_at(o::GID),
        ruid: u32_at(o::RUID),
        name: cut_at_nul(&bytes[o::COMM..o::COMM + MAXCOMLEN + 1]).to_vec(),
        nfiles: 0,
        pgid: u32_at(o::PGID),
        nice: i32::from(bytes[o::NICE] as i8),
        start_time_us,
    })
}

/// One entry of `proc_pidinfo(PROC_PIDLISTFDS)`: `struct proc_fdinfo` (`proc_fd`, an `int32`,
/// then `proc_fdtype`, a `uint32`: 8 bytes).
pub(crate) const PROC_FDINFO_SIZE: usize = 8;

/// The entries of a `PROC_PIDLISTFDS` answer, `(fd, PROX_FDTYPE_*)`: whole 8-byte records only
/// (a trailing partial one is dropped), negative fds skipped.
pub(crate) fn parse_fd_list(bytes: &[u8]) -> Vec<(u32, u32)> {
    bytes
        .chunks_exact(PROC_FDINFO_SIZE)
        .filter_map(|rec| {
            let fd = i32::from_le_bytes(rec[0..4].try_into().ok()?);
            let kind = u32::from_le_bytes(rec[4..8].try_into().ok()?);
            u32::try_from(fd).ok().map(|fd| (fd, kind))
        })
        .collect()
}

/// Size of `struct vnode_fdinfowithpath` (`PROC_PIDFDVNODEPATHINFO_SIZE`): a
/// `struct proc_fileinfo` (24 bytes), a `struct vnode_info` (152) and the path
/// (`MAXPATHLEN`, 1024).
pub(crate) const VNODE_FDINFOWITHPATH_SIZE: usize = 1200;

/// Byte offsets in `struct vnode_fdinfowithpath` (`<sys/proc_info.h>`). The `libc` crate has
/// no `proc_fileinfo` (so no `vnode_fdinfowithpath`): its 24 bytes are `fi_openflags` (u32),
/// `fi_status` (u32), `fi_offset` (off_t), `fi_type` (i32), `fi_guardflags` (u32). The
/// `vnode_info_path` after it is libc's, and its layout is checked against libc below.
mod vnode_offset {
    pub const OPENFLAGS: usize = 0;
    pub const STATUS: usize = 4;
    pub const OFFSET: usize = 8;
    /// `vnode_info_path` starts after `proc_fileinfo`.
    pub const VIP: usize = 24;
    pub const MODE: usize = VIP + 4;
    pub const INO: usize = VIP + 8;
    pub const PATH: usize = VIP + 152;
    pub const PATH_LEN: usize = 1024;
}

#[cfg(target_os = "macos")]
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<libc::vnode_info_path>() == VNODE_FDINFOWITHPATH_SIZE - vnode_offset::VIP);
    assert!(offset_of!(libc::vnode_info_path, vip_path) == vnode_offset::PATH - vnode_offset::VIP);
    assert!(offset_of!(libc::vinfo_stat, vst_mode) == vnode_offset::MODE - vnode_offset::VIP);
    assert!(offset_of!(libc::vinfo_stat, vst_ino) == vnode_offset::INO - vnode_offset::VIP);
};

/// `PROC_FP_CLEXEC` in `fi_status`: close-on-exec.
const PROC_FP_CLEXEC: u32 = 0x2;

/// What sysprims reads of a `struct vnode_fdinfowithpath`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VnodeFd {
    /// `fi_openflags`: the kernel's `FREAD` (1) and `FWRITE` (2) bits and the `O_*` flags.
    pub open_flags: u32,
    pub cloexec: bool,
    pub offset: u64,
    /// `vst_mode`: the file type bits (`S_IFMT`) and permissions.
    pub mode: u16,
    pub inode: u64,
    /// The path, up to its first NUL; empty when the kernel has none for the vnode.
    pub path: Vec<u8>,
}

/// Parse the bytes `proc_pidfdinfo(PROC_PIDFDVNODEPATHINFO)` filled; a short answer is an
/// error.
pub(crate) fn parse_vnode_fdinfo(bytes: &[u8]) -> Result<VnodeFd, ParseError> {
    if bytes.len() < VNODE_FDINFOWITHPATH_SIZE {
        return Err(ParseError(
            "vnode_fdinfowithpath shorter than its 1200 bytes",
        ));
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    let mode = u16::from_le_bytes(
        bytes[vnode_offset::MODE..vnode_offset::MODE + 2]
            .try_into()
            .unwrap_or([0; 2]),
    );
    Ok(VnodeFd {
        open_flags: u32_at(vnode_offset::OPENFLAGS),
        cloexec: u32_at(vnode_offset::STATUS) & PROC_FP_CLEXEC != 0,
        offset: u64_at(vnode_offset::OFFSET),
        mode,
        inode: u64_at(vnode_offset::INO),
        path: cut_at_nul(&bytes[vnode_offset::PATH..vnode_offset::PATH + vnode_offset::PATH_LEN])
            .to_vec(),
    })
}

/// The portable kind of a vnode from its mode's file type bits.
pub(crate) fn vnode_kind(mode: u16) -> crate::fds::FdKind {
    use crate::fds::FdKind;
    match u32::from(mode) & 0o170000 {
        0o100000 => FdKind::File,
        0o040000 => FdKind::Directory,
        0o020000 => FdKind::CharDevice,
        0o060000 => FdKind::BlockDevice,
        0o010000 => FdKind::Pipe,
        0o140000 => FdKind::Socket,
        _ => FdKind::Unknown,
    }
}

/// How an fd was opened, from `fi_openflags` (`FREAD` 1, `FWRITE` 2; none: unknown).
pub(crate) fn access_of(open_flags: u32) -> Option<crate::fds::AccessMode> {
    use crate::fds::AccessMode;
    match open_flags & 3 {
        1 => Some(AccessMode::Read),
        2 => Some(AccessMode::Write),
        3 => Some(AccessMode::ReadWrite),
        _ => None,
    }
}

/// Size of `struct socket_fdinfo` (`PROC_PIDFDSOCKETINFO_SIZE`): `proc_fileinfo` (24 bytes)
/// and `socket_info` (768: 240 bytes of generic fields, then the `soi_proto` union, whose
/// largest member, `un_sockinfo`, takes 528).
pub(crate) const SOCKET_FDINFO_SIZE: usize = 792;

/// Byte offsets in `struct socket_fdinfo` (`<sys/proc_info.h>`; the `libc` crate defines none
/// of these structs). `socket_info` starts at 24, its `soi_proto` union at 24 + 240 (8-byte
/// aligned: `in_sockinfo` holds a `uint64_t`).
mod socket_offset {
    const PSI: usize = 24;
    /// `soi_stat.vst_uid`.
    pub const UID: usize = PSI + 16;
    /// `soi_so`: the kernel's opaque handle of the socket, the same in every process that
    /// holds it.
    pub const SO: usize = PSI + 136;
    pub const TYPE: usize = PSI + 152;
    pub const PROTOCOL: usize = PSI + 156;
    pub const FAMILY: usize = PSI + 160;
    pub const OPTIONS: usize = PSI + 164;
    pub const STATE: usize = PSI + 168;
    pub const KIND: usize = PSI + 232;
    const PROTO: usize = PSI + 240;
    /// `in_sockinfo`: `insi_fport`, `insi_lport` (ints holding a port in network order),
    /// `insi_faddr`, `insi_laddr` (16 bytes each; IPv4 in the last 4).
    pub const FPORT: usize = PROTO;
    pub const LPORT: usize = PROTO + 4;
    pub const FADDR: usize = PROTO + 32;
    pub const LADDR: usize = PROTO + 48;
    /// `tcp_sockinfo.tcpsi_state`, after the 80-byte `in_sockinfo`.
    pub const TCP_STATE: usize = PROTO + 80;
    /// `un_sockinfo.unsi_addr.sun_path`: after two u64 handles, `sun_len` and `sun_family`.
    pub const SUN_PATH: usize = PROTO + 16 + 2;
    pub const SUN_PATH_LEN: usize = 104;
}

/// `soi_kind` values.
const SOCKINFO_IN: i32 = 1;
const SOCKINFO_TCP: i32 = 2;
const SOCKINFO_UN: i32 = 3;
/// macOS's address families and protocols.
const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 30;
const IPPROTO_TCP: i32 = 6;
const IPPROTO_UDP: i32 = 17;
/// `SO_ACCEPTCONN` in `soi_options`; `SOI_S_*` in `soi_state`.
const SO_ACCEPTCONN: u16 = 0x2;
const SOI_S_ISCONNECTED: u16 = 0x2;
const SOI_S_ISCONNECTING: u16 = 0x4;
const SOI_S_ISDISCONNECTING: u16 = 0x8;

// The constants above against the `libc` crate's macOS definitions, at compile time.
#[cfg(target_os = "macos")]
const _: () = {
    assert!(libc::AF_UNIX == AF_UNIX && libc::AF_INET == AF_INET && libc::AF_INET6 == AF_INET6);
    assert!(libc::IPPROTO_TCP == IPPROTO_TCP && libc::IPPROTO_UDP == IPPROTO_UDP);
    assert!(libc::SO_ACCEPTCONN == SO_ACCEPTCONN as i32);
    assert!(libc::SOCK_STREAM == 1 && libc::SOCK_DGRAM == 2 && libc::SOCK_SEQPACKET == 5);
    assert!(libc::S_IFMT as u32 == 0o170000 && libc::S_IFREG as u32 == 0o100000);
    assert!(libc::S_IFDIR as u32 == 0o040000 && libc::S_IFCHR as u32 == 0o020000);
    assert!(libc::S_IFBLK as u32 == 0o060000 && libc::S_IFIFO as u32 == 0o010000);
    assert!(libc::S_IFSOCK as u32 == 0o140000);
};

/// What sysprims reads of a `struct socket_fdinfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SocketFd {
    /// `soi_so`: one socket held by several processes has one handle.
    pub handle: u64,
    /// The socket's owner (`soi_stat.vst_uid`).
    pub uid: u32,
    /// What the portable layer knows of it; `None` for families it does not describe
    /// (routing, kernel control, ...).
    pub info: Option<crate::fds::SocketInfo>,
}

/// The portable state of a TCP socket from `tcpsi_state` (`TSI_S_*`).
pub(crate) fn tcp_state(raw: i32) -> crate::fds::SocketState {
    use crate::fds::SocketState as S;
    match raw {
        0 => S::Close,
        1 => S::Listen,
        2 => S::SynSent,
        3 => S::SynRecv,
        4 => S::Established,
        5 => S::CloseWait,
        6 => S::FinWait1,
        7 => S::Closing,
        8 => S::LastAck,
        9 => S::FinWait2,
        10 => S::TimeWait,
        _ => S::Unknown,
    }
}

/// Parse the bytes `proc_pidfdinfo(PROC_PIDFDSOCKETINFO)` filled; a short answer is an error.
pub(crate) fn parse_socket_fdinfo(bytes: &[u8]) -> Result<SocketFd, ParseError> {
    use crate::fds::{SocketFamily, SocketInfo, SocketProtocol, SocketState};
    use socket_offset as o;
    if bytes.len() < SOCKET_FDINFO_SIZE {
        return Err(ParseError("socket_fdinfo shorter than its 792 bytes"));
    }
    let i32_at = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]));
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap_or([0; 2]));
    let addr16 = |at: usize| -> [u8; 16] { bytes[at..at + 16].try_into().unwrap_or([0; 16]) };
    // The kernel stores the port's network-order u16 in an int: its low two bytes in memory.
    let port_at = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
    let family = i32_at(o::FAMILY);
    let kind = i32_at(o::KIND);
    let ip = |raw: [u8; 16]| -> String {
        if family == AF_INET {
            std::net::Ipv4Addr::new(raw[12], raw[13], raw[14], raw[15]).to_string()
        } else {
            std::net::Ipv6Addr::from(raw).to_string()
        }
    };
    let info = match (family, kind) {
        (AF_INET | AF_INET6, SOCKINFO_IN | SOCKINFO_TCP) => {
            let protocol = match i32_at(o::PROTOCOL) {
                IPPROTO_TCP => SocketProtocol::Tcp,
                IPPROTO_UDP => SocketProtocol::Udp,
                _ => return Ok(SocketFd::other(bytes)),
            };
            let remote_port = port_at(o::FPORT);
            let state = match (protocol, kind) {
                (SocketProtocol::Tcp, SOCKINFO_TCP) => tcp_state(i32_at(o::TCP_STATE)),
                (SocketProtocol::Tcp, _) => SocketState::Unknown,
                _ if remote_port != 0 => SocketState::Established,
                _ => SocketState::Unconnected,
            };
            Some(SocketInfo {
                family: if family == AF_INET {
                    SocketFamily::Ipv4
                } else {
                    SocketFamily::Ipv6
                },
                protocol,
                local_address: Some(ip(addr16(o::LADDR))),
                local_port: Some(port_at(o::LPORT)),
                remote_address: Some(ip(addr16(o::FADDR))),
                remote_port: Some(remote_port),
                state,
            })
        }
        (AF_UNIX, SOCKINFO_UN) => {
            let protocol = match i32_at(o::TYPE) {
                1 => SocketProtocol::UnixStream,
                2 => SocketProtocol::UnixDgram,
                5 => SocketProtocol::UnixSeqpacket,
                _ => return Ok(SocketFd::other(bytes)),
            };
            let flags = u16_at(o::STATE);
            let state = if u16_at(o::OPTIONS) & SO_ACCEPTCONN != 0 {
                SocketState::Listen
            } else if flags & SOI_S_ISCONNECTED != 0 {
                SocketState::Connected
            } else if flags & SOI_S_ISCONNECTING != 0 {
                SocketState::Connecting
            } else if flags & SOI_S_ISDISCONNECTING != 0 {
                SocketState::Disconnecting
            } else {
                SocketState::Unconnected
            };
            let path = cut_at_nul(&bytes[o::SUN_PATH..o::SUN_PATH + o::SUN_PATH_LEN]);
            Some(SocketInfo {
                family: SocketFamily::Unix,
                protocol,
                local_address: (!path.is_empty())
                    .then(|| String::from_utf8_lossy(path).into_owned()),
                local_port: None,
                remote_address: None,
                remote_port: None,
                state,
            })
        }
        _ => None,
    };
    Ok(SocketFd {
        info,
        ..SocketFd::other(bytes)
    })
}

impl SocketFd {
    /// The handle and owner of a socket the parser does not describe. `bytes` is at least
    /// [`SOCKET_FDINFO_SIZE`] long.
    fn other(bytes: &[u8]) -> SocketFd {
        let at = |i: usize, n: usize| &bytes[i..i + n];
        SocketFd {
            handle: u64::from_le_bytes(at(socket_offset::SO, 8).try_into().unwrap_or([0; 8])),
            uid: u32::from_le_bytes(at(socket_offset::UID, 4).try_into().unwrap_or([0; 4])),
            info: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `KERN_PROCARGS2` buffer as the kernel lays it out, with the apple strings after the
    /// environment's terminator.
    fn procargs(argc: i32, path: &[u8], pad: usize, strings: &[&[u8]]) -> Vec<u8> {
        let mut b = argc.to_le_bytes().to_vec();
        b.extend_from_slice(path);
        b.push(0);
        b.extend(std::iter::repeat_n(0, pad));
        for s in strings {
            b.extend_from_slice(s);
            b.push(0);
        }
        b
    }

    #[test]
    fn procargs_of_a_shell() {
        let buf = procargs(
            3,
            b"/bin/sh",
            7,
            &[
                b"sh",
                b"-c",
                b"echo hi; sleep 1",
                b"PATH=/usr/bin:/bin",
                b"HOME=/Users/me",
                b"",
                b"executable_path=/bin/sh",
                b"ptr_munge=",
            ],
        );
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.exec_path, b"/bin/sh");
        assert_eq!(p.argv, [&b"sh"[..], b"-c", b"echo hi; sleep 1"]);
        assert_eq!(p.env, [&b"PATH=/usr/bin:/bin"[..], b"HOME=/Users/me"]);
        assert!(!p.truncated);
    }

    #[test]
    fn procargs_keeps_empty_arguments() {
        // An empty argument is an argument (argc says how many); only in the environment
        // does an empty string end the list.
        let buf = procargs(3, b"/bin/echo", 0, &[b"echo", b"", b"x", b"A=1", b""]);
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.argv, [&b"echo"[..], b"", b"x"]);
        assert_eq!(p.env, [&b"A=1"[..]]);
        assert!(!p.truncated);
    }

    #[test]
    fn procargs_without_environment() {
        let buf = procargs(1, b"/sbin/launchd", 3, &[b"/sbin/launchd", b""]);
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.argv, [&b"/sbin/launchd"[..]]);
        assert!(p.env.is_empty());
        assert!(!p.truncated);
    }

    #[test]
    fn procargs_cut_in_an_argument() {
        let mut buf = procargs(2, b"/usr/bin/python3", 4, &[b"python3", b"script.py"]);
        buf.truncate(buf.len() - 4); // "script" without ".py" and its NUL
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.argv, [&b"python3"[..], b"script"]);
        assert!(p.truncated, "no environment terminator was seen");
        let buf = procargs(5, b"/bin/ls", 1, &[b"ls", b"-l"]);
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.argv, [&b"ls"[..], b"-l"]);
        assert!(p.truncated, "argc said 5");
    }

    #[test]
    fn procargs_cut_in_the_environment() {
        let mut buf = procargs(1, b"/bin/sh", 0, &[b"sh", b"A=1", b"B=22"]);
        buf.pop();
        buf.pop();
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.env, [&b"A=1"[..], b"B=2"]);
        assert!(p.truncated);
    }

    #[test]
    fn procargs_hostile_headers() {
        assert!(parse_procargs2(b"").is_err());
        assert!(parse_procargs2(&[1, 0, 0]).is_err());
        assert_eq!(
            parse_procargs2(&(-1i32).to_le_bytes()).unwrap_err(),
            ParseError("KERN_PROCARGS2 argc is negative")
        );
        // Only the count: what a reader gets for a process whose arguments it may not read.
        let only_count = 2i32.to_le_bytes();
        let p = parse_procargs2(&only_count).unwrap();
        assert!(p.argv.is_empty() && p.exec_path.is_empty() && p.truncated);
        let no_args = 0i32.to_le_bytes();
        let p = parse_procargs2(&no_args).unwrap();
        assert!(!p.truncated);
        // A huge argc over a small buffer allocates nothing up front and reads what is there.
        let buf = procargs(i32::MAX, b"/x", 0, &[b"a", b"b"]);
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.argv, [&b"a"[..], b"b"]);
        assert!(p.truncated);
        // All padding, no arguments.
        let mut buf = 1i32.to_le_bytes().to_vec();
        buf.extend_from_slice(b"/bin/x\0\0\0\0\0\0");
        let p = parse_procargs2(&buf).unwrap();
        assert_eq!(p.exec_path, b"/bin/x");
        assert!(p.argv.is_empty() && p.truncated);
    }

    #[test]
    fn procargs_never_panics_on_any_prefix_or_byte_flip() {
        let buf = procargs(
            2,
            b"/bin/sh",
            5,
            &[b"sh", b"-c", b"A=1", b"", b"executable_path=/bin/sh"],
        );
        for end in 0..=buf.len() {
            let _ = parse_procargs2(&buf[..end]);
        }
        for at in 0..buf.len() {
            for v in [0u8, 0xff, b'a'] {
                let mut b = buf.clone();
                b[at] = v;
                if let Ok(p) = parse_procargs2(&b) {
                    assert!(p.argv.len() + p.env.len() <= b.len());
                }
            }
        }
    }

    /// A `proc_bsdinfo` record in the kernel's layout.
    fn bsdinfo(fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; PROC_BSDINFO_SIZE];
        for (at, bytes) in fields {
            b[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        b
    }

    fn le32(v: u32) -> [u8; 4] {
        v.to_le_bytes()
    }

    #[test]
    fn bsdinfo_of_a_user_process() {
        let b = bsdinfo(&[
            (offset::FLAGS, &le32(0x10)),
            (offset::STATUS, &le32(2)),
            (offset::PID, &le32(4321)),
            (offset::PPID, &le32(1)),
            (offset::UID, &le32(501)),
            (offset::GID, &le32(20)),
            (offset::RUID, &le32(501)),
            (offset::COMM, b"Google Chrome H"),
            (offset::NAME, b"Google Chrome Helper (Renderer)"),
            (offset::NFILES, &le32(42)),
            (offset::PGID, &le32(4300)),
            (offset::NICE, &(-5i32).to_le_bytes()),
            (offset::START_TVSEC, &1_764_000_000u64.to_le_bytes()),
            (offset::START_TVUSEC, &123_456u64.to_le_bytes()),
        ]);
        let i = parse_bsdinfo(&b).unwrap();
        assert_eq!(i.pid, 4321);
        assert_eq!(i.ppid, 1);
        assert_eq!(i.uid, 501);
        assert_eq!(i.gid, 20);
        assert_eq!(i.ruid, 501);
        assert_eq!(i.pgid, 4300);
        assert_eq!(i.nfiles, 42);
        assert_eq!(i.nice, -5);
        assert_eq!(i.status, BsdStatus::Running);
        assert_eq!(i.name, b"Google Chrome Helper (Renderer)");
        assert_eq!(i.start_time_us, 1_764_000_000_123_456);
        assert_eq!(i.start_time_ms(), 1_764_000_000_123);
        assert!(!i.is_system());
    }

    #[test]
    fn bsdinfo_name_falls_back_to_comm_and_fills_whole_fields() {
        let b = bsdinfo(&[(offset::COMM, b"kernel_task"), (offset::FLAGS, &le32(1))]);
        let i = parse_bsdinfo(&b).unwrap();
        assert_eq!(i.name, b"kernel_task");
        assert!(i.is_system() && !i.is_exiting());
        let b = bsdinfo(&[(offset::FLAGS, &le32(PROC_FLAG_INEXIT))]);
        assert!(parse_bsdinfo(&b).unwrap().is_exiting());
        assert_eq!(i.status, BsdStatus::Other(0));
        // A name field with no NUL at all is taken whole, never read past.
        let b = bsdinfo(&[(offset::NAME, &[b'n'; 32]), (offset::NFILES, &le32(7))]);
        let i = parse_bsdinfo(&b).unwrap();
        assert_eq!(i.name, [b'n'; 32]);
        assert_eq!(i.nfiles, 7);
    }

    #[test]
    fn bsdinfo_states_and_zombie_status() {
        for (raw, want) in [
            (1, BsdStatus::Idle),
            (3, BsdStatus::Sleeping),
            (4, BsdStatus::Stopped),
            (5, BsdStatus::Zombie),
            (99, BsdStatus::Other(99)),
        ] {
            let b = bsdinfo(&[
                (offset::STATUS, &le32(raw)),
                (offset::XSTATUS, &le32(0x0900)),
            ]);
            let i = parse_bsdinfo(&b).unwrap();
            assert_eq!(i.status, want);
            assert_eq!(i.exit_status, 0x0900);
        }
    }

    #[test]
    fn bsdinfo_hostile_buffers() {
        for len in [0, 1, 12, 135] {
            assert!(parse_bsdinfo(&vec![0u8; len]).is_err(), "{len} bytes");
        }
        // Longer answers (a newer kernel's larger record) are read by their known prefix.
        assert!(parse_bsdinfo(&[0u8; 200]).is_ok());
        let b = bsdinfo(&[(offset::START_TVUSEC, &1_000_000u64.to_le_bytes())]);
        assert!(parse_bsdinfo(&b).is_err());
        let b = bsdinfo(&[(offset::START_TVSEC, &u64::MAX.to_le_bytes())]);
        assert!(parse_bsdinfo(&b).is_err());
        let all_ones = vec![0xffu8; PROC_BSDINFO_SIZE];
        assert!(parse_bsdinfo(&all_ones).is_err());
    }

    #[test]
    fn states_from_bsdinfo() {
        use crate::process::ProcessState;
        let state = |status: u32, flags: u32| {
            let b = bsdinfo(&[
                (offset::STATUS, &le32(status)),
                (offset::FLAGS, &le32(flags)),
            ]);
            process_state(&parse_bsdinfo(&b).unwrap())
        };
        assert_eq!(state(2, 0), ProcessState::Running);
        assert_eq!(state(3, 0), ProcessState::Sleeping);
        assert_eq!(state(4, 0), ProcessState::Stopped);
        assert_eq!(state(5, 0), ProcessState::Zombie);
        assert_eq!(state(5, PROC_FLAG_INEXIT), ProcessState::Zombie);
        assert_eq!(state(2, PROC_FLAG_INEXIT), ProcessState::Dead);
        assert_eq!(state(1, 0), ProcessState::Unknown);
        assert_eq!(state(0, 0), ProcessState::Unknown);
        assert_eq!(state(u32::MAX, 0), ProcessState::Unknown);
    }

    #[test]
    fn mach_ticks_scale_without_overflow() {
        // Apple silicon: 24 MHz ticks, timebase 125/3.
        assert_eq!(scale_ticks(24_000_000, 125, 3), 1_000_000_000);
        assert_eq!(scale_ticks(12345, 1, 1), 12345);
        assert_eq!(scale_ticks(u64::MAX, 125, 3), u64::MAX);
        assert_eq!(scale_ticks(u64::MAX, 1, 1), u64::MAX);
        assert_eq!(scale_ticks(10, 1, 0), 10);
        assert_eq!(scale_ticks(10, 0, 3), 0);
    }

    #[test]
    fn environment_strings_to_a_map() {
        let env = env_map(&[b"A=1", b"B=x=y", b"", b"NOEQ", b"A=2", b"C=\xff"]);
        assert_eq!(env["A"], "2");
        assert_eq!(env["B"], "x=y");
        assert_eq!(env["NOEQ"], "");
        assert_eq!(env["C"], "\u{fffd}");
        assert_eq!(env.len(), 4);
        assert!(env_map(&[]).is_empty());
    }

    #[test]
    fn fd_lists_take_whole_records() {
        let mut b = Vec::new();
        for (fd, kind) in [(0i32, 1u32), (1, 6), (-1, 1), (7, 2)] {
            b.extend_from_slice(&fd.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
        }
        assert_eq!(parse_fd_list(&b), [(0, 1), (1, 6), (7, 2)]);
        b.extend_from_slice(&[9, 0, 0]);
        assert_eq!(parse_fd_list(&b).len(), 3, "a partial record is dropped");
        assert!(parse_fd_list(&[]).is_empty());
        assert!(parse_fd_list(&[1, 2, 3, 4, 5, 6, 7]).is_empty());
    }

    #[test]
    fn vnode_fdinfo_of_a_file() {
        let mut b = vec![0u8; VNODE_FDINFOWITHPATH_SIZE];
        b[vnode_offset::OPENFLAGS..][..4].copy_from_slice(&3u32.to_le_bytes());
        b[vnode_offset::STATUS..][..4].copy_from_slice(&PROC_FP_CLEXEC.to_le_bytes());
        b[vnode_offset::OFFSET..][..8].copy_from_slice(&4096u64.to_le_bytes());
        b[vnode_offset::MODE..][..2].copy_from_slice(&0o100644u16.to_le_bytes());
        b[vnode_offset::INO..][..8].copy_from_slice(&123_456u64.to_le_bytes());
        b[vnode_offset::PATH..][..10].copy_from_slice(b"/etc/hosts");
        let v = parse_vnode_fdinfo(&b).unwrap();
        assert_eq!(v.path, b"/etc/hosts");
        assert_eq!(v.offset, 4096);
        assert_eq!(v.inode, 123_456);
        assert!(v.cloexec);
        assert_eq!(vnode_kind(v.mode), crate::fds::FdKind::File);
        assert_eq!(
            access_of(v.open_flags),
            Some(crate::fds::AccessMode::ReadWrite)
        );
    }

    #[test]
    fn vnode_fdinfo_hostile_buffers() {
        for len in [0, 24, 176, 1199] {
            assert!(parse_vnode_fdinfo(&vec![0u8; len]).is_err(), "{len} bytes");
        }
        // A path with no NUL fills its field and is never read past; extra bytes are ignored.
        let mut b = vec![b'p'; VNODE_FDINFOWITHPATH_SIZE + 16];
        b[vnode_offset::MODE..][..2].copy_from_slice(&0o040755u16.to_le_bytes());
        let v = parse_vnode_fdinfo(&b).unwrap();
        assert_eq!(v.path.len(), 1024);
        assert_eq!(vnode_kind(v.mode), crate::fds::FdKind::Directory);
        let all_ones = parse_vnode_fdinfo(&[0xff; VNODE_FDINFOWITHPATH_SIZE]).unwrap();
        assert_eq!(vnode_kind(all_ones.mode), crate::fds::FdKind::Unknown);
        assert_eq!(access_of(0), None);
        assert_eq!(vnode_kind(0o020666), crate::fds::FdKind::CharDevice);
        assert_eq!(vnode_kind(0o060660), crate::fds::FdKind::BlockDevice);
        assert_eq!(vnode_kind(0o010600), crate::fds::FdKind::Pipe);
    }

    /// A `socket_fdinfo` record with these fields set.
    fn socket_record(fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; SOCKET_FDINFO_SIZE];
        for (at, bytes) in fields {
            b[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        b
    }

    #[test]
    fn socket_fdinfo_of_a_tcp_listener() {
        use crate::fds::{SocketFamily, SocketProtocol, SocketState};
        use socket_offset as o;
        let mut laddr = [0u8; 16];
        laddr[12..].copy_from_slice(&[127, 0, 0, 1]);
        let b = socket_record(&[
            (o::SO, &0xdead_beef_u64.to_le_bytes()),
            (o::UID, &501u32.to_le_bytes()),
            (o::FAMILY, &AF_INET.to_le_bytes()),
            (o::PROTOCOL, &IPPROTO_TCP.to_le_bytes()),
            (o::KIND, &SOCKINFO_TCP.to_le_bytes()),
            (o::LPORT, &8080u16.to_be_bytes()),
            (o::LADDR, &laddr),
            (o::TCP_STATE, &1i32.to_le_bytes()),
        ]);
        let s = parse_socket_fdinfo(&b).unwrap();
        assert_eq!(s.handle, 0xdead_beef);
        assert_eq!(s.uid, 501);
        let info = s.info.unwrap();
        assert_eq!(info.family, SocketFamily::Ipv4);
        assert_eq!(info.protocol, SocketProtocol::Tcp);
        assert_eq!(info.local_address.as_deref(), Some("127.0.0.1"));
        assert_eq!(info.local_port, Some(8080));
        assert_eq!(info.remote_port, Some(0));
        assert_eq!(info.state, SocketState::Listen);
    }

    #[test]
    fn socket_fdinfo_of_udp_and_unix_sockets() {
        use crate::fds::{SocketFamily, SocketProtocol, SocketState};
        use socket_offset as o;
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        let udp = |fport: u16| {
            socket_record(&[
                (o::FAMILY, &AF_INET6.to_le_bytes()),
                (o::PROTOCOL, &IPPROTO_UDP.to_le_bytes()),
                (o::KIND, &SOCKINFO_IN.to_le_bytes()),
                (o::LPORT, &5353u16.to_be_bytes()),
                (o::FPORT, &fport.to_be_bytes()),
                (o::LADDR, &v6),
            ])
        };
        let info = parse_socket_fdinfo(&udp(0)).unwrap().info.unwrap();
        assert_eq!(
            (info.family, info.protocol, info.state),
            (
                SocketFamily::Ipv6,
                SocketProtocol::Udp,
                SocketState::Unconnected
            )
        );
        assert_eq!(info.local_address.as_deref(), Some("::1"));
        assert_eq!(info.local_port, Some(5353));
        let info = parse_socket_fdinfo(&udp(53)).unwrap().info.unwrap();
        assert_eq!(info.state, SocketState::Established);

        let unix = |options: u16, state: u16, path: &[u8]| {
            socket_record(&[
                (o::FAMILY, &AF_UNIX.to_le_bytes()),
                (o::TYPE, &1i32.to_le_bytes()),
                (o::KIND, &SOCKINFO_UN.to_le_bytes()),
                (o::OPTIONS, &options.to_le_bytes()),
                (o::STATE, &state.to_le_bytes()),
                (o::SUN_PATH, path),
            ])
        };
        let info = parse_socket_fdinfo(&unix(SO_ACCEPTCONN, 0, b"/tmp/s.sock"))
            .unwrap()
            .info
            .unwrap();
        assert_eq!(info.protocol, SocketProtocol::UnixStream);
        assert_eq!(info.state, SocketState::Listen);
        assert_eq!(info.local_address.as_deref(), Some("/tmp/s.sock"));
        let info = parse_socket_fdinfo(&unix(0, SOI_S_ISCONNECTED, b""))
            .unwrap()
            .info
            .unwrap();
        assert_eq!(info.state, SocketState::Connected);
        assert_eq!(info.local_address, None);
    }

    #[test]
    fn socket_fdinfo_hostile_buffers() {
        for len in [0, 24, 264, 791] {
            assert!(parse_socket_fdinfo(&vec![0u8; len]).is_err(), "{len} bytes");
        }
        // All ones: an unknown family, described as nothing, never read past.
        let s = parse_socket_fdinfo(&[0xff; SOCKET_FDINFO_SIZE]).unwrap();
        assert_eq!(s.info, None);
        assert_eq!(s.handle, u64::MAX);
        // A known family with an unknown protocol or type is not described either.
        let b = socket_record(&[
            (socket_offset::FAMILY, &AF_INET.to_le_bytes()),
            (socket_offset::KIND, &SOCKINFO_IN.to_le_bytes()),
            (socket_offset::PROTOCOL, &99i32.to_le_bytes()),
        ]);
        assert_eq!(parse_socket_fdinfo(&b).unwrap().info, None);
        // A Unix path with no NUL fills its 104 bytes.
        let mut b = socket_record(&[
            (socket_offset::FAMILY, &AF_UNIX.to_le_bytes()),
            (socket_offset::TYPE, &2i32.to_le_bytes()),
            (socket_offset::KIND, &SOCKINFO_UN.to_le_bytes()),
        ]);
        b[socket_offset::SUN_PATH..socket_offset::SUN_PATH + 200].fill(b'x');
        let info = parse_socket_fdinfo(&b).unwrap().info.unwrap();
        assert_eq!(info.local_address.map(|a| a.len()), Some(104));
        for (raw, want) in [
            (4, crate::fds::SocketState::Established),
            (-1, crate::fds::SocketState::Unknown),
            (11, crate::fds::SocketState::Unknown),
        ] {
            assert_eq!(tcp_state(raw), want);
        }
    }

    /// A `kinfo_proc` record with these fields set.
    fn kinfo(fields: &[(usize, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; KINFO_PROC_SIZE];
        for (at, bytes) in fields {
            b[*at..*at + bytes.len()].copy_from_slice(bytes);
        }
        b
    }

    #[test]
    fn kinfo_proc_of_another_users_process() {
        use kinfo_offset as o;
        let b = kinfo(&[
            (o::START_SEC, &1_764_000_000i64.to_le_bytes()),
            (o::START_USEC, &654_321i32.to_le_bytes()),
            (o::FLAG, &(P_SYSTEM | 0x4).to_le_bytes()),
            (o::STAT, &[3]),
            (o::PID, &77u32.to_le_bytes()),
            (o::NICE, &[(-3i8) as u8]),
            (o::COMM, b"mDNSResponder"),
            (o::XSTAT, &0x0900u16.to_le_bytes()),
            (o::RUID, &65u32.to_le_bytes()),
            (o::UID, &65u32.to_le_bytes()),
            (o::GID, &65u32.to_le_bytes()),
            (o::PPID, &1u32.to_le_bytes()),
            (o::PGID, &77u32.to_le_bytes()),
        ]);
        let i = parse_kinfo_proc(&b).unwrap();
        assert_eq!((i.pid, i.ppid, i.pgid), (77, 1, 77));
        assert_eq!((i.uid, i.gid, i.ruid), (65, 65, 65));
        assert_eq!(i.name, b"mDNSResponder");
        assert_eq!(i.status, BsdStatus::Sleeping);
        assert_eq!(i.start_time_us, 1_764_000_000_654_321);
        assert_eq!(i.nice, -3);
        assert_eq!(i.exit_status, 0x0900);
        assert!(i.is_system() && !i.is_exiting());
        let b = kinfo(&[(o::FLAG, &P_WEXIT.to_le_bytes()), (o::STAT, &[2])]);
        let i = parse_kinfo_proc(&b).unwrap();
        assert_eq!(process_state(&i), crate::process::ProcessState::Dead);
    }

    #[test]
    fn kinfo_proc_hostile_buffers() {
        use kinfo_offset as o;
        for len in [0, 296, 647] {
            assert!(parse_kinfo_proc(&vec![0u8; len]).is_err(), "{len} bytes");
        }
        assert!(parse_kinfo_proc(&[0u8; KINFO_PROC_SIZE * 2]).is_ok());
        let b = kinfo(&[(o::START_SEC, &(-1i64).to_le_bytes())]);
        assert!(parse_kinfo_proc(&b).is_err());
        let b = kinfo(&[(o::START_USEC, &1_000_000i32.to_le_bytes())]);
        assert!(parse_kinfo_proc(&b).is_err());
        let b = kinfo(&[(o::START_SEC, &i64::MAX.to_le_bytes())]);
        assert!(parse_kinfo_proc(&b).is_err());
        // A name with no NUL is cut at its 17-byte field.
        let b = kinfo(&[(o::COMM, &[b'n'; 40])]);
        assert_eq!(parse_kinfo_proc(&b).unwrap().name.len(), 17);
        assert!(parse_kinfo_proc(&[0xff; KINFO_PROC_SIZE]).is_err());
    }
}
