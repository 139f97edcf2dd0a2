//go:build linux

package sysprims

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"sysprims.dev/sysprims/internal/testutil"
)

// A setsid escapee leaves the process group, not the cgroup: TerminateTree ends it too.
func TestTerminateTreeKillsSetsidEscapeeThroughCgroup(t *testing.T) {
	needCgroup(t)
	res, _, pids := spawnReady(t, SpawnInGroupConfig{},
		`setsid sh -c 'echo $$ > "$0.esc"; exec sleep 1000' "$1" & while [ ! -s "$1.esc" ]; do :; done; echo $$ $(cat "$1.esc") > "$1"; wait`)
	escapee := testutil.OpenPidfd(t, pids[1])
	if sid, _ := testutil.StatField(pids[1], 6); sid != strconv.Itoa(pids[1]) {
		t.Fatalf("the escapee is not in a session of its own (sid %s)", sid)
	}
	done, err := TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !done.Exited || done.TimedOut || len(done.Survivors) != 0 || done.TreeKillReliability != ReliabilityGuaranteed {
		t.Fatalf("result %+v", done)
	}
	if done.Signalled < 2 {
		t.Errorf("signalled %d processes, want the root and the escapee at least", done.Signalled)
	}
	if !escapee.Exited() {
		t.Fatal("the setsid escapee survived")
	}
	WaitPID(res.PID, NoTimeout)
}

// Without a cgroup the walk still finds children in the tree, and says best_effort.
func TestTerminateTreeWalkWithoutCgroup(t *testing.T) {
	res, _, pids := spawnReady(t, SpawnInGroupConfig{Containment: ContainmentProcessGroup},
		`sleep 1000 & a=$!; sleep 1000 & echo $$ $a $! > "$1"; wait`)
	kids := []*testutil.Proc{testutil.OpenPidfd(t, pids[1]), testutil.OpenPidfd(t, pids[2])}
	done, err := TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !done.Exited || done.TreeKillReliability != ReliabilityBestEffort || len(done.Warnings) == 0 {
		t.Fatalf("result %+v", done)
	}
	for _, k := range kids {
		if !k.Exited() {
			t.Errorf("child %d survived", k.PID)
		}
	}
	WaitPID(res.PID, NoTimeout)
}

// A tree that ignores SIGTERM is escalated to SIGKILL after the grace period.
func TestTerminateTreeEscalates(t *testing.T) {
	res, _, _ := spawnReady(t, SpawnInGroupConfig{}, `trap '' TERM; echo $$ > "$1"; exec sleep 1000`)
	done, err := TerminateTree(res.PID, TerminateTreeConfig{GraceTimeoutMS: u64(50), KillTimeoutMS: u64(5000)})
	if err != nil {
		t.Fatal(err)
	}
	if !done.Escalated || !done.Exited || done.SignalSent != SIGTERM || done.KillSignal != SIGKILL {
		t.Fatalf("result %+v", done)
	}
	w, err := WaitPID(res.PID, NoTimeout)
	if err != nil || w.Signal == nil || *w.Signal != SIGKILL {
		t.Fatalf("wait %+v %v", w, err)
	}
}

// Custom signals are sent as configured.
func TestTerminateTreeCustomSignal(t *testing.T) {
	res, _, _ := spawnReady(t, SpawnInGroupConfig{}, `echo $$ > "$1"; exec sleep 1000`)
	done, err := TerminateTree(res.PID, TerminateTreeConfig{Signal: SIGINT})
	if err != nil || done.SignalSent != SIGINT || done.Escalated {
		t.Fatalf("result %+v %v", done, err)
	}
	w, _ := WaitPID(res.PID, NoTimeout)
	if w.Signal == nil || *w.Signal != SIGINT {
		t.Fatalf("wait %+v", w)
	}
}

// A guard that does not match is NotFound, and nothing is signalled.
func TestTerminateTreeGuards(t *testing.T) {
	res, proc := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	start := *res.Identity.StartTimeUnixMS
	_, err := TerminateTree(res.PID, TerminateTreeConfig{RequireStartTimeMS: u64(start + 10)})
	wantCode(t, err, CodeNotFound)
	other := "/bin/not-sleep"
	_, err = TerminateTree(res.PID, TerminateTreeConfig{RequireExePath: &other})
	wantCode(t, err, CodeNotFound)
	if proc.Exited() {
		t.Fatal("a guarded TerminateTree that failed its guard signalled the process")
	}
	done, err := TerminateTree(res.PID, TerminateTreeConfig{RequireStartTimeMS: &start, RequireExePath: res.Identity.ExePath})
	if err != nil || !done.Exited {
		t.Fatalf("matching guards: %+v %v", done, err)
	}
	WaitPID(res.PID, NoTimeout)
	_, err = TerminateTree(res.PID, TerminateTreeConfig{})
	wantCode(t, err, CodeNotFound)
}

// The caller and PID 1 are refused without AllowProtected. (Asking for PID 1 is safe: the
// library refuses before any signal, and this test would fail loudly if it did not, since
// the graceful signal is one init ignores.)
func TestTerminateTreeRefusesProtected(t *testing.T) {
	_, err := TerminateTree(uint32(os.Getpid()), TerminateTreeConfig{Signal: int(syscall.SIGWINCH), KillSignal: int(syscall.SIGWINCH)})
	wantCode(t, err, CodeInvalidArgument)
}

func TestTerminateTreeContextCancelEscalatesAtOnce(t *testing.T) {
	res, _, _ := spawnReady(t, SpawnInGroupConfig{}, `trap '' TERM; echo $$ > "$1"; exec sleep 1000`)
	ctx, cancel := context.WithCancel(context.Background())
	type outcome struct {
		res *TerminateTreeResult
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		r, err := TerminateTreeContext(ctx, res.PID, TerminateTreeConfig{GraceTimeoutMS: u64(3_600_000), KillTimeoutMS: u64(3_600_000)})
		out <- outcome{r, err}
	}()
	cancel()
	o := <-out
	if !errors.Is(o.err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled (result %+v)", o.err, o.res)
	}
	if o.res == nil || !o.res.Escalated || !o.res.Exited || !cancelled(o.res.Warnings) {
		t.Fatalf("result %+v", o.res)
	}
	w, _ := WaitPID(res.PID, NoTimeout)
	if w.Signal == nil || *w.Signal != SIGKILL {
		t.Fatalf("wait %+v", w)
	}
}

// A context that never ends changes nothing.
func TestTerminateTreeContextBackground(t *testing.T) {
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	done, err := TerminateTreeContext(context.Background(), res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited || done.Escalated {
		t.Fatalf("%+v %v", done, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, _ = spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	done, err = TerminateTreeContext(ctx, res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited || done.Escalated {
		t.Fatalf("%+v %v", done, err)
	}
}

func TestKillDescendants(t *testing.T) {
	res, proc, pids := spawnReady(t, SpawnInGroupConfig{},
		`sleep 1000 & a=$!; sleep 1000 & echo $$ $a $! > "$1"; wait; wait; exec sleep 1000`)
	kids := []*testutil.Proc{testutil.OpenPidfd(t, pids[1]), testutil.OpenPidfd(t, pids[2])}

	preview, err := KillDescendants(res.PID, SIGTERM, &KillDescendantsOptions{DryRun: true})
	if err != nil || !preview.Preview || len(preview.Targets) != 2 {
		t.Fatalf("preview %+v %v", preview, err)
	}
	for _, tr := range preview.Targets {
		if tr.Outcome != OutcomeWouldSignal {
			t.Errorf("preview outcome %+v", tr)
		}
	}
	if kids[0].Exited() || kids[1].Exited() {
		t.Fatal("a dry run signalled")
	}

	report, err := KillDescendants(res.PID, SIGTERM, nil)
	if err != nil || report.Preview || report.Signal != SIGTERM || report.SignalName != "SIGTERM" || !report.AllSignalled() {
		t.Fatalf("report %+v %v", report, err)
	}
	var got []uint32
	for _, tr := range report.Targets {
		got = append(got, tr.PID)
	}
	slices.Sort(got)
	if !slices.Equal(got, []uint32{uint32(pids[1]), uint32(pids[2])}) {
		t.Fatalf("targets %v, want %v", got, pids[1:])
	}
	for _, k := range kids {
		if !k.WaitExit(10 * time.Second) {
			t.Errorf("descendant %d survived", k.PID)
		}
	}
	if proc.Exited() {
		t.Error("the root itself was signalled")
	}
	// Filters: nothing matches a name no descendant has.
	report, err = KillDescendants(res.PID, SIGTERM, &KillDescendantsOptions{Filter: ProcessFilter{NameEquals: "no-such-name"}})
	if err != nil || len(report.Targets) != 0 {
		t.Fatalf("filtered report %+v %v", report, err)
	}
}
