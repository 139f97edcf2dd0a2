//go:build linux

package sysprims

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"sysprims.dev/sysprims/internal/testutil"
)

func TestRunWithTimeoutReportsTheCommandsStatus(t *testing.T) {
	res, err := RunWithTimeout([]string{"sh", "-c", "exit 3"}, time.Minute, TimeoutConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if res.TimedOut() || res.ExitCode == nil || *res.ExitCode != 3 || res.ExitStatus != 3 {
		t.Fatalf("%+v", res)
	}
	if res.SchemaID != "https://sysprims.dev/schemas/timeout-report/v1.json" {
		t.Errorf("schema %q", res.SchemaID)
	}
	killed, err := RunWithTimeout([]string{"sh", "-c", "kill -USR1 $$"}, 0, TimeoutConfig{})
	if err != nil || killed.Signal == nil || *killed.Signal != int(syscall.SIGUSR1) || killed.ExitStatus != 128+int(syscall.SIGUSR1) {
		t.Fatalf("%+v %v", killed, err)
	}
}

func TestRunWithTimeoutEndsTheWholeJobAtTheDeadline(t *testing.T) {
	needCgroup(t)
	marker := testutil.Marker(t)
	sleep := testutil.MarkedSleep(t, marker)
	t.Cleanup(func() { testutil.KillMarked(marker) })
	// A setsid escapee and the command itself; both carry the marker from their start.
	script := `setsid "$0" 1000 & exec "$0" 1000`
	kill := uint64(200)
	res, err := RunWithTimeout([]string{"sh", "-c", script, sleep}, 100*time.Millisecond,
		TimeoutConfig{KillAfterMS: &kill, Stdout: StdioNull})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut() || res.ExitStatus != 124 || res.SignalSent == nil || *res.SignalSent != int(syscall.SIGTERM) {
		t.Fatalf("%+v", res)
	}
	if res.TreeKillReliability != ReliabilityGuaranteed || len(res.Survivors) != 0 {
		t.Fatalf("%+v", res)
	}
	if n := testutil.CountMarked(marker); n != 0 {
		t.Fatalf("%d processes of the job live on", n)
	}
}

func TestRunWithTimeoutContextKillsTheJobAtOnce(t *testing.T) {
	marker := testutil.Marker(t)
	sleep := testutil.MarkedSleep(t, marker)
	t.Cleanup(func() { testutil.KillMarked(marker) })
	fifo := testutil.Fifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type out struct {
		res *TimeoutResult
		err error
	}
	done := make(chan out, 1)
	go func() {
		// No deadline and TERM ignored: only the context can end it.
		res, err := RunWithTimeoutContext(ctx,
			[]string{"sh", "-c", `trap '' TERM; "$0" 1000 & echo up > "$1"; wait`, sleep, fifo},
			0, TimeoutConfig{})
		done <- out{res, err}
	}()
	if got := testutil.ReadFifo(t, fifo, fifoTimeout); got != "up\n" {
		t.Fatalf("fifo: %q", got)
	}
	cancel()
	o := <-done
	if !errors.Is(o.err, context.Canceled) || o.res == nil {
		t.Fatalf("%+v %v", o.res, o.err)
	}
	if !o.res.TimedOut() || !o.res.Escalated || o.res.Signal == nil || *o.res.Signal != int(syscall.SIGKILL) || !cancelled(o.res.Warnings) {
		t.Fatalf("%+v", o.res)
	}
	if n := testutil.CountMarked(marker); n != 0 {
		t.Fatalf("%d processes of the job live on", n)
	}
}

func TestRunWithTimeoutRefusesBadInput(t *testing.T) {
	_, err := RunWithTimeout(nil, time.Second, TimeoutConfig{})
	wantCode(t, err, CodeInvalidArgument)
	_, err = RunWithTimeout([]string{"true"}, -time.Second, TimeoutConfig{})
	wantCode(t, err, CodeInvalidArgument)
	_, err = RunWithTimeout([]string{"sysprims-test-no-such-command"}, time.Second, TimeoutConfig{})
	wantCode(t, err, CodeSpawnFailed)
	if !errors.Is(err, ErrSpawnFailed) {
		t.Errorf("%v is not ErrSpawnFailed", err)
	}
	_, err = RunWithTimeoutContext(context.Background(), []string{}, time.Second, TimeoutConfig{})
	wantCode(t, err, CodeInvalidArgument)
}
