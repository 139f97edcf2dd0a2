//! Starting a child on Windows: `CreateProcessW`, suspended, so that it can be put in its
//! job before it runs a single instruction of its own.
//!
//! The pure parts (the command line by the MSVC C runtime's rules, the environment block,
//! the program search) are functions over data, tested as such; the I/O around them is thin.

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::path::{Path, PathBuf};
use std::ptr;

use windows_sys::Win32::Foundation::{
    DUPLICATE_SAME_ACCESS, DuplicateHandle, FILETIME, GENERIC_READ, GENERIC_WRITE, HANDLE,
};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::Storage::FileSystem::{
    CREATE_ALWAYS, CreateFileW, FILE_APPEND_DATA, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_DELETE,
    FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_ALWAYS, OPEN_EXISTING,
};
use windows_sys::Win32::System::Console::{
    GetStdHandle, STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemDirectoryW, GetWindowsDirectoryW};
use windows_sys::Win32::System::Threading::{
    CREATE_NEW_PROCESS_GROUP, CREATE_SUSPENDED, CREATE_UNICODE_ENVIRONMENT, CreateProcessW,
    DeleteProcThreadAttributeList, EXTENDED_STARTUPINFO_PRESENT, GetCurrentProcess,
    GetProcessTimes, InitializeProcThreadAttributeList, LPPROC_THREAD_ATTRIBUTE_LIST,
    PROC_THREAD_ATTRIBUTE_HANDLE_LIST, PROCESS_INFORMATION, ResumeThread, STARTF_USESTDHANDLES,
    STARTUPINFOEXW, TerminateProcess, UpdateProcThreadAttribute, WaitForSingleObject,
};

use crate::error::{Result, SysprimsError};
use crate::spawn::{SpawnInGroupConfig, StdioConfig};

/// The `SYNCHRONIZE` access right.
const SYNCHRONIZE: u32 = 0x0010_0000;

/// `ERROR_FILE_NOT_FOUND`.
const ERROR_FILE_NOT_FOUND: i32 = 2;

fn spawn_failed(program: &str, reason: String, errno: Option<i32>) -> SysprimsError {
    SysprimsError::SpawnFailed {
        program: program.to_string(),
        reason,
        errno,
    }
}

fn no_nul(what: &'static str, s: &str) -> Result<()> {
    if s.contains('\0') {
        return Err(SysprimsError::invalid(what, s, "contains a NUL byte"));
    }
    Ok(())
}

/// Append `arg` to `cmd` as the MSVC C runtime (`CommandLineToArgvW`) parses it back: quoted
/// when empty or holding a space, tab, newline or quote; backslashes doubled only before a
/// quote or the closing quote.
fn append_arg(cmd: &mut String, arg: &str) {
    let quote = arg.is_empty() || arg.contains([' ', '\t', '\n', '\x0b', '"']);
    if !quote {
        cmd.push_str(arg);
        return;
    }
    cmd.push('"');
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                // Each backslash before a quote is doubled, and the quote escaped.
                cmd.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                cmd.push('"');
                backslashes = 0;
            }
            _ => {
                cmd.extend(std::iter::repeat_n('\\', backslashes));
                cmd.push(c);
                backslashes = 0;
            }
        }
    }
    // Backslashes before the closing quote are doubled, so it stays a quote.
    cmd.extend(std::iter::repeat_n('\\', backslashes * 2));
    cmd.push('"');
}

/// The command line for `argv`. The program name is always quoted and cannot hold a quote
/// (the C runtime reads `argv[0]` by simpler rules: up to the next quote).
///
/// # Errors
/// `InvalidArgument` for a NUL byte anywhere, or a quote in `argv[0]`.
pub(crate) fn command_line(argv: &[String]) -> Result<String> {
    let mut cmd = String::new();
    for (i, arg) in argv.iter().enumerate() {
        no_nul("argument", arg)?;
        if i == 0 {
            if arg.contains('"') {
                return Err(SysprimsError::invalid(
                    "program",
                    arg.as_str(),
                    "contains a double quote, which a Windows command line cannot carry in \
                     the program name",
                ));
            }
            cmd.push('"');
            cmd.push_str(arg);
            cmd.push('"');
        } else {
            cmd.push(' ');
            append_arg(&mut cmd, arg);
        }
    }
    Ok(cmd)
}

/// The child's environment: the caller's (unless `env_clear`) with `env` over it, keys
/// compared as Windows compares them (case-insensitively), sorted as Windows sorts a block.
pub(crate) fn environment(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    env: &BTreeMap<String, String>,
    env_clear: bool,
) -> Vec<(OsString, OsString)> {
    let mut map: BTreeMap<String, (OsString, OsString)> = BTreeMap::new();
    if !env_clear {
        for (k, v) in inherited {
            let upper = k.to_string_lossy().to_uppercase();
            map.entry(upper).or_insert((k, v));
        }
    }
    for (k, v) in env {
        map.insert(k.to_uppercase(), (OsString::from(k), OsString::from(v)));
    }
    map.into_values().collect()
}

/// The environment block `CreateProcessW` takes with `CREATE_UNICODE_ENVIRONMENT`:
/// `K=V\0` entries, then one more `\0` (two for an empty block).
pub(crate) fn environment_block(vars: &[(OsString, OsString)]) -> Result<Vec<u16>> {
    let mut block = Vec::new();
    for (k, v) in vars {
        let (ks, vs) = (k.to_string_lossy(), v.to_string_lossy());
        no_nul("environment variable", &ks)?;
        no_nul("environment variable", &vs)?;
        block.extend(k.encode_wide());
        block.push(u16::from(b'='));
        block.extend(v.encode_wide());
        block.push(0);
    }
    if block.is_empty() {
        block.push(0);
    }
    block.push(0);
    Ok(block)
}

fn has_separator(program: &str) -> bool {
    program.contains(['\\', '/', ':'])
}

/// The names to try for `program` in one directory: as given, then with `.exe` and `.com`
/// when it has no extension (what `CreateProcessW` appends).
fn candidates(program: &str) -> Vec<String> {
    let has_ext = Path::new(program).extension().is_some();
    let mut v = vec![program.to_string()];
    if !has_ext {
        v.push(format!("{program}.exe"));
        v.push(format!("{program}.com"));
    }
    v
}

/// Find `program`: a path (holding `\`, `/` or `:`) is taken relative to `cwd`; a bare name
/// is looked up in `path` (the child's `PATH`, `;`-separated), then in the system
/// directories, as `CreateProcessW` does, so that `cmd` is found with an empty `PATH`.
/// `exists` says whether a file is there (a parameter, so the search is testable).
pub(crate) fn resolve(
    program: &str,
    cwd: Option<&Path>,
    path: Option<&str>,
    system_dirs: &[PathBuf],
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if has_separator(program) {
        let base = Path::new(program);
        let base = match cwd {
            Some(dir) if base.is_relative() => dir.join(base),
            _ => base.to_path_buf(),
        };
        let s = base.to_string_lossy().into_owned();
        return candidates(&s)
            .into_iter()
            .map(PathBuf::from)
            .find(|p| exists(p));
    }
    let dirs = path
        .unwrap_or("")
        .split(';')
        .filter(|d| !d.is_empty())
        .map(|d| PathBuf::from(d.trim_matches('"')))
        .chain(system_dirs.iter().cloned());
    for dir in dirs {
        for name in candidates(program) {
            let p = dir.join(&name);
            if exists(&p) {
                return Some(p);
            }
        }
    }
    None
}

fn system_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for get in [
        GetSystemDirectoryW as unsafe extern "system" fn(*mut u16, u32) -> u32,
        GetWindowsDirectoryW,
    ] {
        let mut buf = [0u16; 520];
        // SAFETY: a buffer of the length passed.
        let n = unsafe { get(buf.as_mut_ptr(), buf.len() as u32) } as usize;
        if n > 0 && n < buf.len() {
            out.push(PathBuf::from(OsString::from_wide(&buf[..n])));
        }
    }
    out
}

fn wide_path(p: &Path) -> Vec<u16> {
    p.as_os_str()
        .encode_wide()
        .chain(std::iter::once(0))
        .collect()
}

fn owned(raw: HANDLE) -> Option<OwnedHandle> {
    if raw.is_null() || raw as isize == -1 {
        None
    } else {
        // SAFETY: a fresh handle this process owns and closes exactly once.
        Some(unsafe { OwnedHandle::from_raw_handle(raw as RawHandle) })
    }
}

/// An inheritable duplicate of `h` (the child gets its own copy; ours is closed after the
/// spawn).
fn inheritable_copy(h: HANDLE) -> io::Result<OwnedHandle> {
    let mut out: HANDLE = ptr::null_mut();
    // SAFETY: valid process pseudo-handles and source handle, a valid out-pointer.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            h,
            GetCurrentProcess(),
            &mut out,
            0,
            1,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    owned(out).ok_or_else(io::Error::last_os_error)
}

/// Open one standard stream's target, inheritable, so a bad path is reported by name.
fn open_stdio(program: &str, index: usize, config: &StdioConfig) -> Result<Option<OwnedHandle>> {
    let name = ["stdin", "stdout", "stderr"][index];
    let sa = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: ptr::null_mut(),
        bInheritHandle: 1,
    };
    let share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
    let (path, access, disposition) = match config {
        StdioConfig::Inherit => {
            let which = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE][index];
            // SAFETY: plain query of this process's standard handle.
            let h = unsafe { GetStdHandle(which) };
            if h.is_null() || h as isize == -1 {
                return Ok(None);
            }
            return inheritable_copy(h).map(Some).map_err(|e| {
                spawn_failed(
                    program,
                    format!("cannot pass on the caller's {name}: {e}"),
                    e.raw_os_error(),
                )
            });
        }
        StdioConfig::Null => (
            PathBuf::from("NUL"),
            GENERIC_READ | GENERIC_WRITE,
            OPEN_EXISTING,
        ),
        StdioConfig::File { path, append } => {
            if index == 0 {
                (path.clone(), GENERIC_READ, OPEN_EXISTING)
            } else if *append {
                // Appending writes need SYNCHRONIZE too (synchronous I/O).
                (path.clone(), FILE_APPEND_DATA | SYNCHRONIZE, OPEN_ALWAYS)
            } else {
                (path.clone(), GENERIC_WRITE, CREATE_ALWAYS)
            }
        }
    };
    let w = wide_path(&path);
    // SAFETY: a NUL-terminated path, valid security attributes, no template.
    let h = unsafe {
        CreateFileW(
            w.as_ptr(),
            access,
            share,
            &sa,
            disposition,
            FILE_ATTRIBUTE_NORMAL,
            ptr::null_mut(),
        )
    };
    owned(h).map(Some).ok_or_else(|| {
        let e = io::Error::last_os_error();
        spawn_failed(
            program,
            format!("cannot open {name} file {path:?}: {e}"),
            e.raw_os_error(),
        )
    })
}

/// A child created suspended: its main thread has not run. [`Suspended::resume`] lets it
/// go; dropping it unresumed terminates it.
pub(crate) struct Suspended {
    pub process: OwnedHandle,
    thread: Option<OwnedHandle>,
    pub pid: u32,
    /// Creation time, 100 ns since 1601 (`GetProcessTimes`).
    pub creation_100ns: u64,
}

impl Suspended {
    /// Let the child run.
    pub(crate) fn resume(mut self) -> io::Result<OwnedHandle> {
        let thread = self.thread.take().expect("resumed once");
        // SAFETY: the child's main thread handle, from CreateProcessW.
        let r = unsafe { ResumeThread(thread.as_raw_handle() as HANDLE) };
        if r == u32::MAX {
            let e = io::Error::last_os_error();
            self.thread = Some(thread);
            return Err(e);
        }
        // `self` has no thread now, so Drop leaves the process alone.
        let process = self.process.try_clone()?;
        Ok(process)
    }
}

impl Drop for Suspended {
    fn drop(&mut self) {
        if self.thread.is_some() {
            // Never resumed: it ran nothing of its own. End it and wait, so that nothing of
            // a failed spawn is left.
            let h = self.process.as_raw_handle() as HANDLE;
            // SAFETY: our child's handle, with all access.
            unsafe {
                TerminateProcess(h, 1);
                WaitForSingleObject(h, 5_000);
            }
        }
    }
}

/// The creation time of a process (100 ns since 1601), from a handle with
/// `PROCESS_QUERY_LIMITED_INFORMATION`.
pub(crate) fn creation_time(process: RawHandle) -> io::Result<u64> {
    let mut t = [FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    }; 4];
    let [c, e, k, u] = &mut t;
    // SAFETY: a valid process handle and four FILETIME out-pointers.
    let ok = unsafe { GetProcessTimes(process as HANDLE, c, e, k, u) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((u64::from(t[0].dwHighDateTime) << 32) | u64::from(t[0].dwLowDateTime))
}

/// A `PROC_THREAD_ATTRIBUTE_LIST` holding one attribute, freed on drop.
struct AttributeList {
    buf: Vec<usize>,
    /// The value must outlive the list's use.
    _handles: Vec<HANDLE>,
}

impl AttributeList {
    fn handle_list(handles: Vec<HANDLE>) -> io::Result<AttributeList> {
        let mut size = 0usize;
        // SAFETY: the documented size query (null list).
        unsafe { InitializeProcThreadAttributeList(ptr::null_mut(), 1, 0, &mut size) };
        let mut list = AttributeList {
            buf: vec![0usize; size.div_ceil(size_of::<usize>()).max(1)],
            _handles: handles,
        };
        // SAFETY: a buffer of at least `size` bytes, suitably aligned.
        if unsafe { InitializeProcThreadAttributeList(list.ptr(), 1, 0, &mut size) } == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the list was initialised; the handle array lives in `list`, as long as it.
        let ok = unsafe {
            UpdateProcThreadAttribute(
                list.ptr(),
                0,
                PROC_THREAD_ATTRIBUTE_HANDLE_LIST as usize,
                list._handles.as_ptr().cast(),
                list._handles.len() * size_of::<HANDLE>(),
                ptr::null_mut(),
                ptr::null(),
            )
        };
        if ok == 0 {
            let e = io::Error::last_os_error();
            // SAFETY: initialised above.
            unsafe { DeleteProcThreadAttributeList(list.ptr()) };
            list.buf.clear();
            return Err(e);
        }
        Ok(list)
    }

    fn ptr(&mut self) -> LPPROC_THREAD_ATTRIBUTE_LIST {
        self.buf.as_mut_ptr().cast()
    }
}

impl Drop for AttributeList {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            // SAFETY: initialised in handle_list.
            unsafe { DeleteProcThreadAttributeList(self.ptr()) };
        }
    }
}

/// Create the child described by `config`, suspended, with `new_process_group` in a console
/// process group of its own (`CREATE_NEW_PROCESS_GROUP`, the target of `CTRL_BREAK_EVENT`;
/// it also makes the child ignore `CTRL_C`), inheriting only its
/// three standard handles (`PROC_THREAD_ATTRIBUTE_HANDLE_LIST`).
///
/// # Errors
/// `InvalidArgument` for NUL bytes or a quote in the program name; `SpawnFailed` naming the
/// program or path for a program not found, a missing working directory, a stdio file that
/// cannot be opened, or a `CreateProcessW` failure (with its Win32 error).
pub(crate) fn create_suspended(
    config: &SpawnInGroupConfig,
    new_process_group: bool,
) -> Result<Suspended> {
    let program = config.argv[0].as_str();
    let cmdline = command_line(&config.argv)?;
    let vars = environment(std::env::vars_os(), &config.env, config.env_clear);
    let block = environment_block(&vars)?;
    let cwd = config.cwd.as_deref().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = cwd {
        no_nul("working directory", &dir.to_string_lossy())?;
        if !dir.is_dir() {
            return Err(spawn_failed(
                program,
                format!("the working directory {dir:?} does not exist or is not a directory"),
                Some(ERROR_FILE_NOT_FOUND),
            ));
        }
    }
    let child_path = vars
        .iter()
        .find(|(k, _)| k.to_string_lossy().eq_ignore_ascii_case("PATH"))
        .map(|(_, v)| v.to_string_lossy().into_owned());
    let exe = resolve(
        program,
        cwd,
        child_path.as_deref(),
        &system_dirs(),
        |p: &Path| p.is_file(),
    )
    .ok_or_else(|| {
        let reason = if has_separator(program) {
            "no such file (also tried .exe and .com)".to_string()
        } else {
            "not found in the child's PATH or the system directories".to_string()
        };
        spawn_failed(program, reason, Some(ERROR_FILE_NOT_FOUND))
    })?;
    if let Some(ext) = exe.extension().and_then(|e| e.to_str())
        && (ext.eq_ignore_ascii_case("bat") || ext.eq_ignore_ascii_case("cmd"))
    {
        return Err(SysprimsError::invalid(
            "program",
            program,
            "is a batch file, which CreateProcessW runs through cmd.exe with its own \
             quoting rules: run [\"cmd\", \"/c\", ...] explicitly",
        ));
    }
    let stdio = [
        open_stdio(program, 0, &config.stdin)?,
        open_stdio(program, 1, &config.stdout)?,
        open_stdio(program, 2, &config.stderr)?,
    ];
    let raw_of = |h: &Option<OwnedHandle>| {
        h.as_ref()
            .map_or(ptr::null_mut(), |h| h.as_raw_handle() as HANDLE)
    };
    let mut inherit: Vec<HANDLE> = stdio.iter().map(raw_of).filter(|h| !h.is_null()).collect();
    inherit.dedup();
    let mut attributes = if inherit.is_empty() {
        None
    } else {
        Some(AttributeList::handle_list(inherit).map_err(|e| {
            spawn_failed(
                program,
                format!("cannot list the handles to inherit: {e}"),
                e.raw_os_error(),
            )
        })?)
    };
    // SAFETY: all-zero is a valid STARTUPINFOEXW / PROCESS_INFORMATION.
    let mut si: STARTUPINFOEXW = unsafe { std::mem::zeroed() };
    si.StartupInfo.cb = size_of::<STARTUPINFOEXW>() as u32;
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = raw_of(&stdio[0]);
    si.StartupInfo.hStdOutput = raw_of(&stdio[1]);
    si.StartupInfo.hStdError = raw_of(&stdio[2]);
    let mut flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT;
    if new_process_group {
        flags |= CREATE_NEW_PROCESS_GROUP;
    }
    if let Some(list) = attributes.as_mut() {
        si.lpAttributeList = list.ptr();
        flags |= EXTENDED_STARTUPINFO_PRESENT;
    }
    // SAFETY: all-zero is a valid PROCESS_INFORMATION.
    let mut pi: PROCESS_INFORMATION = unsafe { std::mem::zeroed() };
    let app = wide_path(&exe);
    let mut cmd: Vec<u16> = cmdline.encode_utf16().chain(std::iter::once(0)).collect();
    let dir = cwd.map(wide_path);
    // SAFETY: every pointer is valid for the call: NUL-terminated application and (mutable)
    // command line, environment block, optional directory, startup info with a live
    // attribute list, and the process information out-pointer.
    let ok = unsafe {
        CreateProcessW(
            app.as_ptr(),
            cmd.as_mut_ptr(),
            ptr::null(),
            ptr::null(),
            i32::from(!stdio.iter().all(Option::is_none)),
            flags,
            block.as_ptr().cast(),
            dir.as_ref().map_or(ptr::null(), |d| d.as_ptr()),
            &si.StartupInfo,
            &mut pi,
        )
    };
    drop(attributes);
    if ok == 0 {
        let e = io::Error::last_os_error();
        return Err(spawn_failed(
            program,
            format!("CreateProcessW of {exe:?} failed: {e}"),
            e.raw_os_error(),
        ));
    }
    let process = owned(pi.hProcess).expect("CreateProcessW returned a process handle");
    let thread = owned(pi.hThread);
    let creation_100ns = creation_time(process.as_raw_handle()).unwrap_or(0);
    Ok(Suspended {
        process,
        thread,
        pid: pi.dwProcessId,
        creation_100ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_follow_the_msvc_rules() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(command_line(&v(&["a b", "c"])).unwrap(), r#""a b" c"#);
        assert_eq!(command_line(&v(&["p", ""])).unwrap(), r#""p" """#);
        assert_eq!(command_line(&v(&["p", r#"a"b"#])).unwrap(), r#""p" "a\"b""#);
        assert_eq!(command_line(&v(&["p", r"a\b"])).unwrap(), r#""p" a\b"#);
        assert_eq!(command_line(&v(&["p", r"a b\"])).unwrap(), r#""p" "a b\\""#);
        assert_eq!(
            command_line(&v(&["p", r#"a\"b"#])).unwrap(),
            r#""p" "a\\\"b""#
        );
        assert!(command_line(&v(&["a\"b"])).is_err());
        assert!(command_line(&v(&["p", "a\0"])).is_err());
    }

    #[test]
    fn environment_overrides_ignore_case_and_sort() {
        let inherited = vec![
            (OsString::from("Path"), OsString::from("C:\\x")),
            (OsString::from("b"), OsString::from("1")),
        ];
        let mut env = BTreeMap::new();
        env.insert("PATH".to_string(), "C:\\y".to_string());
        let vars = environment(inherited.clone(), &env, false);
        assert_eq!(
            vars,
            vec![
                (OsString::from("b"), OsString::from("1")),
                (OsString::from("PATH"), OsString::from("C:\\y")),
            ]
        );
        assert_eq!(environment(inherited, &env, true).len(), 1);
        assert_eq!(environment_block(&[]).unwrap(), vec![0, 0]);
    }

    #[test]
    fn programs_are_searched_in_the_childs_path_then_the_system() {
        let here =
            |p: &Path| p == Path::new(r"C:\bin\tool.exe") || p == Path::new(r"C:\sys\cmd.exe");
        let sys = [PathBuf::from(r"C:\sys")];
        assert_eq!(
            resolve("tool", None, Some(r"C:\none;C:\bin"), &sys, here),
            Some(PathBuf::from(r"C:\bin\tool.exe"))
        );
        assert_eq!(
            resolve("cmd", None, None, &sys, here),
            Some(PathBuf::from(r"C:\sys\cmd.exe"))
        );
        assert_eq!(resolve("nope", None, Some(r"C:\bin"), &sys, here), None);
        assert_eq!(
            resolve(r"C:\bin\tool", None, None, &sys, here),
            Some(PathBuf::from(r"C:\bin\tool.exe"))
        );
    }
}
