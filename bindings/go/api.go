package sysprims

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"math"
	"time"
)

// ProcessGet reads one process.
//
// Fields that permission hides are nil or empty, not errors.
//
// Errors: ErrInvalidArgument for PID 0 or above math.MaxInt32 (checked in Go, without a
// call into the library); ErrNotFound when no process has the PID.
func ProcessGet(pid uint32) (*ProcessInfo, error) {
	const op = "ProcessGet"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	r := C.sp_process_get(C.uint32_t(pid))
	if r.rc != 0 {
		return nil, failure(op, r.rc, r.err)
	}
	if r.out == nil {
		return nil, &Error{Code: CodeInternal, Op: op, Message: "the library returned success without a result"}
	}
	if testHookJSON != nil {
		testHookJSON(op, cBytes(r.out, r.len))
	}
	info, err := newProcessInfo(cBytes(r.out, r.len))
	C.sysprims_free_string(r.out)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Op: op, Message: "cannot decode the library's result: " + err.Error()}
	}
	return info, nil
}

// ProcessList lists processes: filtered, sorted and limited as options say. nil options
// list every process by PID. Processes that exit while the listing is read are left out.
//
// Errors: ErrInvalidArgument for a bad filter value (an unknown user, a PID of 0, ...).
func ProcessList(options *SnapshotOptions) (*ProcessSnapshot, error) {
	const op = "ProcessList"
	arg, err := jsonArg(op, options, options == nil)
	if err != nil {
		return nil, err
	}
	snap := new(ProcessSnapshot)
	if err := finish(op, C.sp_process_list(arg), snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// Descendants returns pid and its descendants as a tree, maxLevels levels deep (1: the
// children only); a negative maxLevels includes the whole subtree.
//
// Errors: ErrInvalidArgument for an invalid PID or a maxLevels of 0; ErrNotFound when no
// process has it.
func Descendants(pid uint32, maxLevels int) (*ProcessTree, error) {
	const op = "Descendants"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	levels := C.int32_t(-1)
	if maxLevels >= 0 {
		levels = C.int32_t(min(maxLevels, math.MaxInt32))
	}
	tree := new(ProcessTree)
	if err := finish(op, C.sp_descendants(C.uint32_t(pid), levels), tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// VerifyIdentity checks whether identity.PID still names the process identity was taken
// from: the library's answer to the seed guide's hand-written VerifyIdentity. Every field
// present in identity is compared; any difference is IdentityReused with the evidence, no
// process at all is IdentityGone (not an error).
//
// Errors: ErrInvalidArgument for an invalid PID or an identity with nothing but a PID.
func VerifyIdentity(identity ProcessIdentity) (*IdentityCheck, error) {
	const op = "VerifyIdentity"
	if err := checkPID(op, "PID", identity.PID); err != nil {
		return nil, err
	}
	arg, err := jsonArg(op, identity, false)
	if err != nil {
		return nil, err
	}
	check := new(IdentityCheck)
	if err := finish(op, C.sp_identity_verify(arg), check); err != nil {
		return nil, err
	}
	return check, nil
}

// Kill sends signal to one process (kill(2) on Linux; signal 0 probes). PID 1, the caller
// and the caller's process group are refused for any signal but 0.
//
// Errors: ErrInvalidArgument for an invalid PID or signal or a protected target;
// ErrNotFound; ErrPermissionDenied.
func Kill(pid uint32, signal int) error {
	const op = "Kill"
	if err := checkPID(op, "PID", pid); err != nil {
		return err
	}
	if err := checkSignal(op, signal); err != nil {
		return err
	}
	return finish(op, C.sp_signal_send(C.uint32_t(pid), C.int32_t(signal)), nil)
}

// KillGroup sends signal to a process group (killpg(2)). The caller's own group is refused
// for any signal but 0.
//
// Errors: as Kill.
func KillGroup(pgid uint32, signal int) error {
	const op = "KillGroup"
	if err := checkPID(op, "process group ID", pgid); err != nil {
		return err
	}
	if err := checkSignal(op, signal); err != nil {
		return err
	}
	return finish(op, C.sp_signal_group(C.uint32_t(pgid), C.int32_t(signal)), nil)
}

// KillMany sends signal to each of pids and reports per target. Every PID is validated
// before any signal is sent: one invalid PID fails the whole call and nothing is sent.
// Targets that are gone, protected or not permitted are reported, not errors.
//
// Errors: ErrInvalidArgument for an empty list, an invalid PID or an invalid signal.
func KillMany(pids []uint32, signal int) (*KillReport, error) {
	const op = "KillMany"
	if len(pids) == 0 {
		return nil, invalid(op, "no PIDs given")
	}
	for _, pid := range pids {
		if err := checkPID(op, "PID", pid); err != nil {
			return nil, err
		}
	}
	if err := checkSignal(op, signal); err != nil {
		return nil, err
	}
	arg, err := jsonArg(op, pids, false)
	if err != nil {
		return nil, err
	}
	report := new(KillReport)
	if err := finish(op, C.sp_signal_batch(arg, C.int32_t(signal)), report); err != nil {
		return nil, err
	}
	return report, nil
}

// SignalIf sends signal to the process identity names, and to no other: the library opens
// a pidfd, checks the identity through it and signals through it, so a PID reused at any
// moment cannot receive the signal. The result says signalled, reused (nothing sent) or gone.
//
// Errors: ErrInvalidArgument for an invalid PID, a protected target or an identity with
// nothing but a PID; ErrPermissionDenied.
func SignalIf(identity ProcessIdentity, signal int) (*GuardedSignalResult, error) {
	const op = "SignalIf"
	if err := checkPID(op, "PID", identity.PID); err != nil {
		return nil, err
	}
	if err := checkSignal(op, signal); err != nil {
		return nil, err
	}
	arg, err := jsonArg(op, identity, false)
	if err != nil {
		return nil, err
	}
	res := new(GuardedSignalResult)
	if err := finish(op, C.sp_signal_guarded(arg, C.int32_t(signal)), res); err != nil {
		return nil, err
	}
	return res, nil
}

// SpawnInGroup starts a job in a process group of its own and, where a cgroup v2 subtree is
// writable, a cgroup of its own (TreeKillReliability "guaranteed"); otherwise
// "best_effort" with Warnings saying why. It returns at once.
//
// The child is this program's child: reap it with WaitPID (which also removes its cgroup),
// or end it with TerminateTree and then WaitPID.
//
// Errors: ErrInvalidArgument for an empty Argv (checked in Go) or a NUL byte in an
// argument or variable; ErrSpawnFailed when the program cannot be started;
// ErrNotSupported/ErrPermissionDenied for ContainmentCgroup where no cgroup can be made.
func SpawnInGroup(config SpawnInGroupConfig) (*SpawnInGroupResult, error) {
	const op = "SpawnInGroup"
	if len(config.Argv) == 0 {
		return nil, invalid(op, "empty argv: there is no program to run")
	}
	arg, err := jsonArg(op, config, false)
	if err != nil {
		return nil, err
	}
	res := new(SpawnInGroupResult)
	if err := finish(op, C.sp_spawn_in_group(arg), res); err != nil {
		return nil, err
	}
	return res, nil
}

// NoTimeout makes WaitPID wait for as long as the process runs.
const NoTimeout time.Duration = -1

// WaitPID waits until pid ends or timeout passes (a negative timeout, such as NoTimeout,
// waits for ever; 0 checks without waiting). Any process can be waited for; when it is this
// program's child it is reaped and its exit status returned. A timeout is not an error: the
// result says TimedOut and the process runs on.
//
// Errors: ErrInvalidArgument for an invalid PID or the caller's own; ErrNotFound.
func WaitPID(pid uint32, timeout time.Duration) (*WaitPIDResult, error) {
	const op = "WaitPID"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	res := new(WaitPIDResult)
	if err := finish(op, C.sp_wait_pid(C.uint32_t(pid), timeoutMS(timeout)), res); err != nil {
		return nil, err
	}
	return res, nil
}

// TerminateTree ends pid and every process it started: config.Signal (SIGTERM), a grace
// period, then config.KillSignal (SIGKILL) if anything survived. A job SpawnInGroup put in a
// cgroup is ended through its cgroup ("guaranteed"); any other tree through a walk of its
// descendants ("best_effort"). It returns as soon as everything is gone.
//
// It does not reap: when pid is this program's child, call WaitPID afterwards for its status.
//
// Errors: ErrInvalidArgument for an invalid PID, or PID 1 or the caller without
// AllowProtected; ErrNotFound when no process has the PID or it fails the Require guards
// (nothing is signalled).
func TerminateTree(pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error) {
	const op = "TerminateTree"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	arg, err := jsonArg(op, config, false)
	if err != nil {
		return nil, err
	}
	res := new(TerminateTreeResult)
	if err := finish(op, C.sp_terminate_tree(C.uint32_t(pid), arg), res); err != nil {
		return nil, err
	}
	return res, nil
}

// KillDescendants sends signal to pid's descendants (not pid itself) that pass
// options.Filter, each through a pidfd checked against what was listed. nil options select
// every descendant. The report has one entry per target.
//
// Errors: ErrInvalidArgument for an invalid PID, signal or filter; ErrNotFound.
func KillDescendants(pid uint32, signal int, options *KillDescendantsOptions) (*KillReport, error) {
	const op = "KillDescendants"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	if err := checkSignal(op, signal); err != nil {
		return nil, err
	}
	arg, err := jsonArg(op, options, options == nil)
	if err != nil {
		return nil, err
	}
	report := new(KillReport)
	if err := finish(op, C.sp_kill_descendants(C.uint32_t(pid), C.int32_t(signal), arg), report); err != nil {
		return nil, err
	}
	return report, nil
}

// ListFds lists the open file descriptors of pid, with sockets resolved. nil filter lists
// all.
//
// Errors: ErrInvalidArgument; ErrNotFound; ErrPermissionDenied for another user's process.
func ListFds(pid uint32, filter *FdFilter) (*FdSnapshot, error) {
	const op = "ListFds"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	arg, err := jsonArg(op, filter, filter == nil)
	if err != nil {
		return nil, err
	}
	snap := new(FdSnapshot)
	if err := finish(op, C.sp_fds(C.uint32_t(pid), arg), snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// ListeningPorts lists the listening TCP and UDP sockets of this network namespace with
// every process that holds each. nil filter lists all.
//
// Errors: ErrInvalidArgument for a bad filter (port 0, PID 0).
func ListeningPorts(filter *PortFilter) (*PortBindings, error) {
	const op = "ListeningPorts"
	if filter != nil && filter.PID != nil {
		if err := checkPID(op, "PID", *filter.PID); err != nil {
			return nil, err
		}
	}
	arg, err := jsonArg(op, filter, filter == nil)
	if err != nil {
		return nil, err
	}
	ports := new(PortBindings)
	if err := finish(op, C.sp_ports(arg), ports); err != nil {
		return nil, err
	}
	return ports, nil
}

// checkSignal rejects what can never be a signal, before any cgo call. The library checks
// the rest, in the platform's numbering (32 and 33 are reserved by glibc, for instance, and
// macOS has no signal above 31).
func checkSignal(op string, signal int) error {
	if signal < 0 || signal > 64 {
		return invalid(op, "invalid signal %d: signals are 0 to 64", signal)
	}
	return nil
}

// timeoutMS converts a Go duration to the library's milliseconds: negative is no limit, and
// a positive duration below 1 ms rounds up so that it still waits.
func timeoutMS(d time.Duration) C.int64_t {
	if d < 0 {
		return -1
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return C.int64_t(ms)
}

// decodeJSON is the default decoder, also used by tests to check the lean one.
func decodeJSON(data []byte, v any) error { return json.Unmarshal(data, v) }
