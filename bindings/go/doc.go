// Package sysprims is the Go binding of sysprims, a library of process primitives for
// supervisors, job runners, CI runners and test harnesses. It calls the Rust library through
// its C ABI (cgo), with the API of the Supervisor Integration Guide.
//
// Who is this PID:
//
//   - [ProcessGet]: one process, with a start time at clock-tick resolution (10 ms) that is
//     the same on every read, its executable and command line.
//   - [ProcessList], [Descendants], [ListFds], [ListeningPorts].
//   - [VerifyIdentity]: is the PID still the process a stored [ProcessIdentity] names?
//
// Start a job so it can be killed whole, and stop it, whole:
//
//   - [SpawnInGroup]: a process group of its own and, where a cgroup v2 subtree is writable,
//     a cgroup of its own ("guaranteed": setsid and double-fork escapees die with it).
//   - [TerminateTree] / [TerminateTreeContext]: graceful signal, grace period, kill.
//   - [WaitPID] / [WaitPIDContext]: wait for any process, reap a child, read its status.
//   - [Kill], [KillGroup], [KillMany], [KillDescendants], and [SignalIf], which signals
//     through a pidfd only the process an identity names.
//
// The adapter sub-package (sysprims.dev/sysprims/adapter) ships the guide's adapter pattern:
// the ProcessAdapter interface, sysprims and legacy implementations, a fallback adapter with
// metrics, and a job record that verifies its identity.
//
// # Errors
//
// Every failure is an [*Error] with the library's stable [ErrorCode] and message. Test the
// code with errors.Is and a sentinel, or read it with errors.As:
//
//	info, err := sysprims.ProcessGet(pid)
//	if errors.Is(err, sysprims.ErrNotFound) { /* the job is gone */ }
//	var e *sysprims.Error
//	if errors.As(err, &e) { log.Printf("%v: %s", e.Code, e.Message) }
//
// PIDs are validated in Go before any call into the library (and again by the library): PID
// 0 and anything above math.MaxInt32 are ErrInvalidArgument, because kill(2) would read them
// as a process group or as "every process".
//
// # Concurrency
//
// Every function is safe to call from any number of goroutines. The library keeps its last
// error per OS thread, and a goroutine may move between threads from one cgo call to the
// next, so each call and the read of its error are made in one C call.
//
// A blocking call (WaitPID, TerminateTree) occupies an OS thread for its duration, as any
// blocking cgo call does; the Go scheduler starts more threads as needed.
//
// # Cancellation
//
// [WaitPIDContext] and [TerminateTreeContext] hand the library a cancel token that the
// context triggers (context.AfterFunc). A cancelled wait returns at once and leaves the
// process alone; a cancelled termination never leaves a half-terminated tree: it escalates
// to the kill signal at once. Both return the library's result together with ctx.Err().
//
// # Children
//
// A job started with SpawnInGroup is this program's child. Reap it with WaitPID, which
// returns its exit status and removes its cgroup; TerminateTree does not reap. (The adapters
// of the adapter package reap their jobs themselves.)
//
// # Linking
//
// By default the package links target/release/libsysprims_ffi.a, built by
// `cargo build --release -p sysprims-ffi` at the repository's root. The build tag
// sysprims_shared links libsysprims_ffi.so instead, for programs that also link another
// Rust static library (two Rust staticlibs in one binary can carry duplicate Rust runtime
// symbols). See README.md.
package sysprims
