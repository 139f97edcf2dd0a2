package sysprims

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"time"
)

// TimeoutConfig says how RunWithTimeout runs a command and ends it. The zero value is
// GNU timeout's defaults: SIGTERM at the deadline, no KILL escalation, the caller's
// streams, working directory and environment, and a cgroup where one can be made.
type TimeoutConfig struct {
	// Signal is sent to every process of the job at the deadline; 0 means SIGTERM.
	Signal int `json:"signal,omitempty"`
	// KillAfterMS: if the command still runs this long after Signal, SIGKILL the whole job.
	// nil (or 0) waits for the command however long it takes, as GNU timeout without -k.
	KillAfterMS *uint64 `json:"kill_after_ms,omitempty"`
	// Containment says how to contain the job (empty: ContainmentAuto).
	Containment Containment `json:"containment,omitempty"`
	// CgroupParent is where the job's cgroup is made; empty for the caller's own cgroup.
	CgroupParent string `json:"cgroup_parent,omitempty"`
	// PreserveStatus makes ExitStatus the command's own status even on a timeout (GNU
	// --preserve-status).
	PreserveStatus bool `json:"preserve_status,omitempty"`
	// Foreground leaves the command in the caller's process group instead of a new one, so
	// it can use the caller's terminal (GNU --foreground). Its children are still ended.
	Foreground bool `json:"foreground,omitempty"`
	// Cleanup: when the command exits before the deadline, end what it left running too
	// (Signal, then SIGKILL after KillAfterMS; at once without it).
	Cleanup bool `json:"cleanup,omitempty"`
	// Cwd is the command's working directory; empty for the caller's.
	Cwd string `json:"cwd,omitempty"`
	// Env holds variables to set over the caller's environment (or an empty one).
	Env map[string]string `json:"env,omitempty"`
	// EnvClear starts from an empty environment.
	EnvClear bool `json:"env_clear,omitempty"`
	// Stdin, Stdout and Stderr say where the standard streams go (default: inherited).
	Stdin  Stdio `json:"stdin,omitzero"`
	Stdout Stdio `json:"stdout,omitzero"`
	Stderr Stdio `json:"stderr,omitzero"`
	// Limits are enforced by the kernel on the whole job, as in SpawnInGroupConfig.
	Limits JobLimits `json:"limits,omitzero"`
}

// Outcomes of a run (TimeoutResult.Outcome).
const (
	// OutcomeCompleted: the command exited before the deadline.
	OutcomeCompleted = "completed"
	// OutcomeTimedOut: the deadline passed (or the context ended) and the job was signalled.
	OutcomeTimedOut = "timed_out"
)

// TimeoutResult is what RunWithTimeout saw and did (the library's timeout-report document).
type TimeoutResult struct {
	// SchemaID is always "https://sysprims.dev/schemas/timeout-report/v1.json".
	SchemaID string `json:"schema_id"`
	// Argv is the command and its arguments.
	Argv []string `json:"argv"`
	// TimeoutMS is the deadline in milliseconds (0: none).
	TimeoutMS uint64 `json:"timeout_ms"`
	// KillAfterMS is the KILL escalation delay, if one was set.
	KillAfterMS *uint64 `json:"kill_after_ms"`
	// ExitStatus is the status GNU timeout would exit with: 124 on a timeout (unless
	// PreserveStatus), 128+N for a command killed by signal N (137 when KILL was needed),
	// the command's own exit code otherwise.
	ExitStatus int `json:"exit_status"`
	// Outcome is OutcomeCompleted or OutcomeTimedOut.
	Outcome string `json:"outcome"`
	// SignalSent is the signal sent at the deadline (timed-out runs only).
	SignalSent *int `json:"signal_sent,omitempty"`
	// Escalated: the command outlived KillAfterMS (or the context ended), so the job was
	// SIGKILLed.
	Escalated bool `json:"escalated"`
	// ExitCode is the command's exit code, when it exited.
	ExitCode *int `json:"exit_code"`
	// Signal is the signal that killed the command, when one did.
	Signal *int `json:"signal"`
	// EndedBy is how the command ended: EndedByExit, EndedBySignal or EndedByOOMKill.
	EndedBy *string `json:"ended_by"`
	// PID is the command's PID (already reaped).
	PID uint32 `json:"pid"`
	// PGID is the command's own process group; nil with Foreground.
	PGID *uint32 `json:"pgid"`
	// Containment is what held the job: "cgroup_v2" or "process_group".
	Containment string `json:"containment"`
	// TreeKillReliability is "guaranteed" (a cgroup held the job) or "best_effort".
	TreeKillReliability string `json:"tree_kill_reliability"`
	// Cgroup is the job's cgroup while it ran (removed when the job ended).
	Cgroup *string `json:"cgroup"`
	// ForwardedSignals are signals passed on to the job while it ran.
	ForwardedSignals []int `json:"forwarded_signals"`
	// LeftoversEnded counts processes the command left running that were ended after it.
	LeftoversEnded uint32 `json:"leftovers_ended"`
	// Survivors are PIDs of the job still alive at return (normally none).
	Survivors []uint32 `json:"survivors"`
	// ElapsedMS is the wall time of the run.
	ElapsedMS uint64 `json:"elapsed_ms"`
	// Warnings are degradations and anything else worth logging.
	Warnings []string `json:"warnings"`
	// Usage is what the job's whole tree used, read from its cgroup when it ended; nil for a
	// job without a cgroup (Warnings say so).
	Usage *JobUsage `json:"usage"`
}

// MarshalJSON writes the document as the library does: `escalated` only in a timed-out
// run's report.
func (r TimeoutResult) MarshalJSON() ([]byte, error) {
	type plain TimeoutResult
	if r.Outcome == OutcomeTimedOut {
		return json.Marshal(plain(r))
	}
	return json.Marshal(struct {
		plain
		Escalated bool `json:"escalated,omitempty"`
	}{plain: plain(r)})
}

// TimedOut reports whether the deadline passed.
func (r *TimeoutResult) TimedOut() bool { return r.Outcome == OutcomeTimedOut }

type timeoutRequest struct {
	Argv      []string      `json:"argv"`
	TimeoutMS uint64        `json:"timeout_ms"`
	Config    TimeoutConfig `json:"config"`
}

func timeoutRequestArg(op string, argv []string, timeout time.Duration, config TimeoutConfig) (*C.char, error) {
	if len(argv) == 0 {
		return nil, invalid(op, "empty argv: there is no program to run")
	}
	if timeout < 0 {
		return nil, invalid(op, "negative timeout %v: use 0 for no deadline", timeout)
	}
	ms := uint64(timeout / time.Millisecond)
	if timeout%time.Millisecond != 0 {
		ms++ // round a fraction of a millisecond up, never down to "no deadline"
	}
	return jsonArg(op, timeoutRequest{Argv: argv, TimeoutMS: ms, Config: config}, false)
}

// RunWithTimeout runs argv and waits for it, ending the whole job if it is still running
// after timeout (0: no deadline). At the deadline config.Signal goes to every process of the
// job, and SIGKILL after config.KillAfterMS; once the command has exited after a timeout,
// whatever it left running is ended too. The command's exit is seen through its pidfd the
// moment it happens. A timeout is not an error: see Outcome and ExitStatus.
//
// Errors: ErrInvalidArgument for an empty argv, a negative timeout or bad config;
// ErrSpawnFailed when the program cannot be started (not found, not executable);
// ErrNotSupported/ErrPermissionDenied for ContainmentCgroup where no cgroup can be made.
func RunWithTimeout(argv []string, timeout time.Duration, config TimeoutConfig) (*TimeoutResult, error) {
	const op = "RunWithTimeout"
	arg, err := timeoutRequestArg(op, argv, timeout, config)
	if err != nil {
		return nil, err
	}
	res := new(TimeoutResult)
	if err := finish(op, C.sp_timeout_run(arg), res); err != nil {
		return nil, err
	}
	return res, nil
}

// RunWithTimeoutContext is RunWithTimeout that ctx can cut short: when ctx ends first, the
// whole job is SIGKILLed at once and the result (Outcome "timed_out", Escalated, a
// "cancelled" warning) is returned together with ctx.Err(). Nothing of the job is left
// running.
func RunWithTimeoutContext(ctx context.Context, argv []string, timeout time.Duration, config TimeoutConfig) (*TimeoutResult, error) {
	const op = "RunWithTimeoutContext"
	if ctx.Done() == nil {
		return RunWithTimeout(argv, timeout, config)
	}
	arg, err := timeoutRequestArg(op, argv, timeout, config)
	if err != nil {
		return nil, err
	}
	tok, err := newCancelToken(op, ctx)
	if err != nil {
		return nil, err
	}
	r := C.sp_timeout_run_cancellable(arg, tok.token)
	triggered := tok.release()
	res := new(TimeoutResult)
	if err := finish(op, r, res); err != nil {
		return nil, err
	}
	if triggered && cancelled(res.Warnings) {
		return res, ctx.Err()
	}
	return res, nil
}
