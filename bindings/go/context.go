package sysprims

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"slices"
	"time"
)

// cancelToken is a library cancel token tied to a context for the length of one call.
type cancelToken struct {
	token *C.sysprims_cancel
	stop  func() bool
	fired chan struct{}
}

// newCancelToken makes a token that ctx triggers when it ends (at once if it has ended).
func newCancelToken(op string, ctx context.Context) (*cancelToken, error) {
	r := C.sp_cancel_new()
	if r.token == nil {
		return nil, failure(op, r.rc, r.err)
	}
	t := &cancelToken{token: r.token, fired: make(chan struct{})}
	t.stop = context.AfterFunc(ctx, func() {
		C.sysprims_cancel_trigger(t.token)
		close(t.fired)
	})
	return t, nil
}

// release detaches the token from the context and frees it. It reports whether the context
// triggered the token. A trigger already running is waited for, so the token is never freed
// under it.
func (t *cancelToken) release() (triggered bool) {
	if !t.stop() {
		<-t.fired
		triggered = true
	}
	C.sysprims_cancel_free(t.token)
	return triggered
}

// cancelledWarning is the warning the library adds to a result its token cut short.
const cancelledWarning = "cancelled"

// cancelled reports whether the library said the call was cut short by its token.
func cancelled(warnings []string) bool {
	return slices.Contains(warnings, cancelledWarning)
}

// WaitPIDContext is WaitPID that also ends when ctx ends. A cancelled wait returns the
// library's result (Exited false, TimedOut true, a "cancelled" warning) together with
// ctx.Err(); the process is not touched. A wait that finished before ctx ended returns a nil
// error, even if ctx has ended since.
func WaitPIDContext(ctx context.Context, pid uint32, timeout time.Duration) (*WaitPIDResult, error) {
	const op = "WaitPIDContext"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return WaitPID(pid, timeout)
	}
	tok, err := newCancelToken(op, ctx)
	if err != nil {
		return nil, err
	}
	r := C.sp_wait_pid_cancellable(C.uint32_t(pid), timeoutMS(timeout), tok.token)
	triggered := tok.release()
	res := new(WaitPIDResult)
	if err := finish(op, r, res); err != nil {
		return nil, err
	}
	if triggered && !res.Exited && cancelled(res.Warnings) {
		return res, ctx.Err()
	}
	return res, nil
}

// TerminateTreeContext is TerminateTree that ctx can hurry. It never leaves a
// half-terminated tree: when ctx ends during the grace period the kill signal is sent at
// once, and the kill timeout is not waited out. Such a call returns the library's result
// (with a "cancelled" warning) together with ctx.Err().
func TerminateTreeContext(ctx context.Context, pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error) {
	const op = "TerminateTreeContext"
	if err := checkPID(op, "PID", pid); err != nil {
		return nil, err
	}
	if ctx.Done() == nil {
		return TerminateTree(pid, config)
	}
	arg, err := jsonArg(op, config, false)
	if err != nil {
		return nil, err
	}
	tok, err := newCancelToken(op, ctx)
	if err != nil {
		return nil, err
	}
	r := C.sp_terminate_tree_cancellable(C.uint32_t(pid), arg, tok.token)
	triggered := tok.release()
	res := new(TerminateTreeResult)
	if err := finish(op, r, res); err != nil {
		return nil, err
	}
	if triggered && cancelled(res.Warnings) {
		return res, ctx.Err()
	}
	return res, nil
}
