//go:build linux

package sysprims

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sysprims.dev/sysprims/internal/testutil"
)

func TestWaitPID(t *testing.T) {
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sh", "-c", "exit 7"}})
	w, err := WaitPID(res.PID, NoTimeout)
	if err != nil || !w.Exited || w.TimedOut || w.ExitCode == nil || *w.ExitCode != 7 || w.Signal != nil {
		t.Fatalf("wait %+v %v", w, err)
	}
	if w.SchemaID != "https://sysprims.dev/schemas/wait-pid-result/v1.json" || w.PID != res.PID {
		t.Errorf("header %+v", w)
	}
	_, err = WaitPID(res.PID, 0)
	wantCode(t, err, CodeNotFound)

	res, proc := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	w, err = WaitPID(res.PID, 0)
	if err != nil || w.Exited || !w.TimedOut {
		t.Fatalf("a zero timeout on a running process: %+v %v", w, err)
	}
	w, err = WaitPID(res.PID, time.Microsecond) // rounds up to 1 ms, still a wait
	if err != nil || !w.TimedOut {
		t.Fatalf("1 µs: %+v %v", w, err)
	}
	if proc.Exited() {
		t.Fatal("a timed-out wait touched the process")
	}
	_, err = WaitPID(uint32(os.Getpid()), 0)
	wantCode(t, err, CodeInvalidArgument)
}

// Any process can be waited for, not only children; its exit is seen (without its status).
// Its parent never reaps it (the shell becomes a sleep), so the wait finds it, running or a
// zombie, however late the goroutine starts.
func TestWaitPIDNotAChild(t *testing.T) {
	res, _, pids := spawnReady(t, SpawnInGroupConfig{}, `sleep 1000 & echo $! > "$1"; exec sleep 1000`)
	grandchild := testutil.OpenPidfd(t, pids[0])
	done := make(chan *WaitPIDResult, 1)
	go func() {
		w, err := WaitPID(uint32(pids[0]), NoTimeout)
		if err != nil {
			t.Error(err)
		}
		done <- w
	}()
	grandchild.Signal(syscall.SIGKILL)
	w := <-done
	if w == nil || !w.Exited {
		t.Fatalf("wait %+v", w)
	}
	TerminateTree(res.PID, TerminateTreeConfig{})
	WaitPID(res.PID, NoTimeout)
}

func TestWaitPIDContext(t *testing.T) {
	res, proc := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w, err := WaitPIDContext(ctx, res.PID, NoTimeout)
	if !errors.Is(err, context.Canceled) || w == nil || w.Exited || !w.TimedOut || !cancelled(w.Warnings) {
		t.Fatalf("cancelled wait: %+v %v", w, err)
	}
	if proc.Exited() {
		t.Fatal("a cancelled wait touched the process")
	}

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	w, err = WaitPIDContext(ctx, res.PID, NoTimeout)
	if !errors.Is(err, context.DeadlineExceeded) || w.Exited {
		t.Fatalf("deadline: %+v %v", w, err)
	}

	// A wait that ends by itself returns no error.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { Kill(res.PID, SIGTERM) }()
	w, err = WaitPIDContext(ctx, res.PID, NoTimeout)
	if err != nil || !w.Exited || w.Signal == nil || *w.Signal != SIGTERM {
		t.Fatalf("exit: %+v %v", w, err)
	}
}

func TestKillAndKillGroup(t *testing.T) {
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	if err := Kill(res.PID, 0); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if err := Kill(res.PID, SIGTERM); err != nil {
		t.Fatal(err)
	}
	w, _ := WaitPID(res.PID, NoTimeout)
	if w.Signal == nil || *w.Signal != SIGTERM {
		t.Fatalf("wait %+v", w)
	}
	wantCode(t, Kill(res.PID, SIGTERM), CodeNotFound)

	res, _, pids := spawnReady(t, SpawnInGroupConfig{Containment: ContainmentProcessGroup},
		`sleep 1000 & echo $! > "$1"; wait`)
	member := testutil.OpenPidfd(t, pids[0])
	if err := KillGroup(*res.PGID, SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !member.WaitExit(10 * time.Second) {
		t.Fatal("a group member survived KillGroup")
	}
	WaitPID(res.PID, NoTimeout)

	// The caller and its own group are protected (checked with a harmless signal).
	wantCode(t, Kill(uint32(os.Getpid()), int(syscall.SIGWINCH)), CodeInvalidArgument)
	own, _ := syscall.Getpgid(0)
	wantCode(t, KillGroup(uint32(own), int(syscall.SIGWINCH)), CodeInvalidArgument)
	wantCode(t, Kill(res.PID, 65), CodeInvalidArgument)
	wantCode(t, Kill(res.PID, -1), CodeInvalidArgument)
}

func TestKillMany(t *testing.T) {
	a, pa := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	b, pb := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	gone, pg := spawn(t, SpawnInGroupConfig{Argv: []string{"true"}})
	pg.Reap()
	report, err := KillMany([]uint32{a.PID, gone.PID, b.PID}, SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, tr := range report.Targets {
		outcomes = append(outcomes, tr.Outcome)
	}
	if !slices.Equal(outcomes, []string{OutcomeSignalled, OutcomeGone, OutcomeSignalled}) || report.AllSignalled() {
		t.Fatalf("outcomes %v", outcomes)
	}
	if err := report.Targets[1].Error.Err(); !errors.Is(err, ErrNotFound) {
		t.Errorf("gone target's error %v", err)
	}
	if !pa.WaitExit(10*time.Second) || !pb.WaitExit(10*time.Second) {
		t.Fatal("a signalled target survived")
	}

	// One invalid PID fails the whole batch before anything is sent.
	c, pc := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	for _, bad := range []uint32{0, math.MaxInt32 + 1, math.MaxUint32} {
		_, err := KillMany([]uint32{c.PID, bad}, SIGKILL)
		wantCode(t, err, CodeInvalidArgument)
	}
	_, err = KillMany(nil, SIGKILL)
	wantCode(t, err, CodeInvalidArgument)
	wantCode(t, rawSignalBatch(`[`+strconv.Itoa(int(c.PID))+`, 0]`, SIGKILL), CodeInvalidArgument)
	if pc.Exited() {
		t.Fatal("a batch with an invalid PID signalled its valid one")
	}
}

func TestSignalIf(t *testing.T) {
	res, proc := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	wrong := res.Identity
	wrong.PidfsInode = nil
	wrong.StartTimeBootTicks = nil
	wrong.StartTimeUnixMS = u64(*wrong.StartTimeUnixMS + 10)
	out, err := SignalIf(wrong, SIGKILL)
	if err != nil || out.Status != IdentityReused || out.Reason == nil || out.Signalled() {
		t.Fatalf("wrong identity: %+v %v", out, err)
	}
	if proc.Exited() {
		t.Fatal("a mismatched identity was signalled")
	}
	out, err = SignalIf(res.Identity, SIGKILL)
	if err != nil || !out.Signalled() {
		t.Fatalf("signal: %+v %v", out, err)
	}
	if !proc.WaitExit(10 * time.Second) {
		t.Fatal("not killed")
	}
	proc.Reap()
	out, err = SignalIf(res.Identity, SIGKILL)
	if err != nil || out.Status != IdentityGone {
		t.Fatalf("after reaping: %+v %v", out, err)
	}
}

func TestListFds(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	res, _, _ := spawnReady(t, SpawnInGroupConfig{Stdout: StdioFile(out, false)}, `echo $$ > "$1"; exec sleep 1000`)
	snap, err := ListFds(res.PID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if snap.PID != res.PID || snap.SchemaID != "https://sysprims.dev/schemas/fd-snapshot/v1.json" {
		t.Errorf("header %+v", snap)
	}
	var found bool
	for _, fd := range snap.FDs {
		if fd.FD == 1 {
			found = fd.Kind == FdFile && fd.Path != nil && *fd.Path == out && fd.Access != nil && *fd.Access == "write"
		}
	}
	if !found {
		t.Fatalf("fd 1 is not %s: %+v", out, snap.FDs)
	}
	// Our own listening socket, filtered by kind.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	mine, err := ListFds(uint32(os.Getpid()), &FdFilter{Kinds: []FdKind{FdSocket}})
	if err != nil {
		t.Fatal(err)
	}
	found = false
	for _, fd := range mine.FDs {
		if fd.Kind != FdSocket {
			t.Errorf("filter let through %+v", fd)
		}
		if s := fd.Socket; s != nil && s.LocalPort != nil && *s.LocalPort == port && s.State == "listen" {
			found = true
		}
	}
	if !found {
		t.Fatalf("our listener on %d is not among our sockets", port)
	}
	_, err = ListFds(0, nil)
	wantCode(t, err, CodeInvalidArgument)
}

func TestListeningPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	me := uint32(os.Getpid())
	ports, err := ListeningPorts(&PortFilter{Protocol: ProtocolTCP, Port: &port})
	if err != nil {
		t.Fatal(err)
	}
	if len(ports.Bindings) != 1 {
		t.Fatalf("bindings for port %d: %+v", port, ports.Bindings)
	}
	b := ports.Bindings[0]
	if b.LocalPort != port || b.Protocol != ProtocolTCP || b.LocalAddress != "127.0.0.1" || b.State != "listen" {
		t.Errorf("binding %+v", b)
	}
	if len(b.Processes) != 1 || b.Processes[0].PID != me {
		t.Errorf("holders %+v, want us (%d)", b.Processes, me)
	}
	ours, err := ListeningPorts(&PortFilter{PID: &me})
	if err != nil || len(ours.Bindings) == 0 {
		t.Fatalf("by PID: %+v %v", ours, err)
	}
	zero := uint16(0)
	_, err = ListeningPorts(&PortFilter{Port: &zero})
	wantCode(t, err, CodeInvalidArgument)
	bad := uint32(0)
	_, err = ListeningPorts(&PortFilter{PID: &bad})
	wantCode(t, err, CodeInvalidArgument)
}

// PID 0, PIDs above MaxInt32 and empty argv are InvalidArgument from every entry point, in
// Go and in the library behind it, and no signal is sent: a canary in our own process group
// (which kill(0) would reach) and this process (which kill(-1) would reach) hear nothing.
// The signal used is SIGWINCH, which every other process ignores by default, so that a
// failure of this test cannot harm anything else on the machine.
func TestInvalidInputSendsNoSignal(t *testing.T) {
	const probe = syscall.SIGWINCH
	heard := make(chan os.Signal, 16)
	signal.Notify(heard, probe, syscall.SIGPWR)
	defer signal.Stop(heard)

	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	ready := testutil.Fifo(t)
	// The canary's sleep runs in the background so that the shell runs its traps at once;
	// it ends the sleep when it exits, and the cleanup ends it too if the test fails first.
	canary := exec.Command("sh", "-c", `trap 'echo W >> "$0"' WINCH; trap 'echo P >> "$0"; kill $! 2>/dev/null; exit 0' PWR; echo > "$1"; while :; do sleep 1000 & wait $!; done`, log, ready)
	if err := canary.Start(); err != nil { // same process group as this test
		t.Fatal(err)
	}
	testutil.Track(t, canary.Process.Pid, "")
	t.Cleanup(func() { testutil.KillChildren(canary.Process.Pid) }) // runs before Track's
	testutil.ReadFifo(t, ready, fifoTimeout)

	sig := int(probe)
	for _, pid := range []uint32{0, math.MaxInt32 + 1, math.MaxUint32, math.MaxUint32 - 1} {
		wantCode(t, Kill(pid, sig), CodeInvalidArgument)
		wantCode(t, KillGroup(pid, sig), CodeInvalidArgument)
		_, err := KillMany([]uint32{pid}, sig)
		wantCode(t, err, CodeInvalidArgument)
		_, err = TerminateTree(pid, TerminateTreeConfig{Signal: sig, KillSignal: sig})
		wantCode(t, err, CodeInvalidArgument)
		_, err = TerminateTreeContext(context.Background(), pid, TerminateTreeConfig{Signal: sig, KillSignal: sig})
		wantCode(t, err, CodeInvalidArgument)
		_, err = KillDescendants(pid, sig, nil)
		wantCode(t, err, CodeInvalidArgument)
		_, err = SignalIf(ProcessIdentity{PID: pid, StartTimeUnixMS: u64(1)}, sig)
		wantCode(t, err, CodeInvalidArgument)
		_, err = ProcessGet(pid)
		wantCode(t, err, CodeInvalidArgument)
		_, err = WaitPID(pid, 0)
		wantCode(t, err, CodeInvalidArgument)
		_, err = Descendants(pid, -1)
		wantCode(t, err, CodeInvalidArgument)
		_, err = VerifyIdentity(ProcessIdentity{PID: pid, StartTimeUnixMS: u64(1)})
		wantCode(t, err, CodeInvalidArgument)
		_, err = ListFds(pid, nil)
		wantCode(t, err, CodeInvalidArgument)
		// The library refuses them by itself as well.
		wantCode(t, rawSignalSend(pid, sig), CodeInvalidArgument)
		wantCode(t, rawSignalGroup(pid, sig), CodeInvalidArgument)
		wantCode(t, rawProcessGet(pid), CodeInvalidArgument)
		wantCode(t, rawWaitPID(pid), CodeInvalidArgument)
		wantCode(t, rawTerminateTree(pid, `{"signal": 28, "kill_signal": 28}`), CodeInvalidArgument)
	}
	wantCode(t, rawSignalBatch(`[4294967295]`, sig), CodeInvalidArgument)
	_, err := SpawnInGroup(SpawnInGroupConfig{Argv: nil})
	wantCode(t, err, CodeInvalidArgument)

	// Standard signals are delivered lowest number first, so once SIGPWR (30) arrives any
	// SIGWINCH (28) sent before it would have arrived already.
	syscall.Kill(os.Getpid(), syscall.SIGPWR)
	for s := range heard {
		if s == probe {
			t.Fatal("this process received the probe signal")
		}
		break
	}
	canary.Process.Signal(syscall.SIGPWR)
	canary.Wait()
	if got, _ := os.ReadFile(log); string(got) != "P\n" {
		t.Fatalf("the canary in our process group heard %q, want only the final P", got)
	}
}

func TestVersion(t *testing.T) {
	if ABIVersion() != 1 {
		t.Errorf("ABI version %d", ABIVersion())
	}
	if v := Version(); v == "" || strings.ContainsAny(v, " \n") {
		t.Errorf("version %q", v)
	}
}
