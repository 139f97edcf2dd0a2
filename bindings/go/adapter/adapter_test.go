//go:build linux

package adapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sysprims.dev/sysprims"
	"sysprims.dev/sysprims/internal/testutil"
)

const fifoTimeout = 30 * time.Second

func u64(v uint64) *uint64 { return &v }

// track holds a job an adapter spawned by a pidfd, and registers its cleanup. The adapters
// reap their own jobs, so the PID may already be free when the pidfd is opened: the pidfd is
// kept only if the process holding the PID started when the job did (otherwise nil, and the
// job is gone). Cleanup ends the job through the adapter (which refuses a job it has seen
// exit), its cgroup and the pidfd, and never by a bare PID or group ID.
func track(t *testing.T, a ProcessAdapter, res *SpawnInGroupResult) *testutil.Proc {
	t.Helper()
	p, err := testutil.Hold(int(res.PID))
	if err == nil {
		start, ok := testutil.StartUnixMS(int(res.PID))
		if !ok || res.Identity.StartTimeUnixMS == nil || start != *res.Identity.StartTimeUnixMS {
			p.Close()
			p = nil
		}
	} else {
		p = nil
	}
	t.Cleanup(func() {
		if res.Cgroup != nil {
			testutil.KillCgroup(*res.Cgroup)
		}
		if res.Identity.StartTimeUnixMS != nil {
			// Guarded: a job the adapter has forgotten goes to sysprims by PID, and the
			// guard makes a reused PID NotFound.
			a.TerminateTree(res.PID, TerminateTreeConfig{GraceTimeoutMS: u64(0), KillTimeoutMS: u64(5000), RequireStartTimeMS: res.Identity.StartTimeUnixMS})
		}
		if p != nil {
			p.Signal(syscall.SIGKILL)
			p.WaitExit(5 * time.Second)
			p.Close()
		}
		if res.Cgroup != nil {
			testutil.RemoveCgroup(*res.Cgroup)
		}
	})
	return p
}

// spawnReady spawns `sh -c script sh FIFO` through a and returns the PIDs the script writes
// to the fifo when it is ready.
func spawnReady(t *testing.T, a ProcessAdapter, config SpawnInGroupConfig, script string) (*SpawnInGroupResult, *testutil.Proc, []int) {
	t.Helper()
	fifo := testutil.Fifo(t)
	config.Argv = []string{"sh", "-c", script, "sh", fifo}
	res, err := a.SpawnInGroup(config)
	if err != nil {
		t.Fatal(err)
	}
	proc := track(t, a, res)
	if proc == nil {
		t.Fatalf("job %d is gone before it reported ready", res.PID)
	}
	return res, proc, testutil.ReadyPIDs(t, testutil.ReadFifo(t, fifo, fifoTimeout))
}

func wantCode(t *testing.T, err error, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want %v", err, sentinel)
	}
	var e *sysprims.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *sysprims.Error", err, err)
	}
}

// events collects metrics events, safely from many goroutines.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (e *events) Record(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) last(t *testing.T) Event {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.all) == 0 {
		t.Fatal("no metrics event")
	}
	return e.all[len(e.all)-1]
}

func TestSysprimsAdapterLifecycle(t *testing.T) {
	a := &SysprimsAdapter{}
	res, proc, _ := spawnReady(t, a, SpawnInGroupConfig{}, `echo $$ > "$1"; exec sleep 1000`)
	info, err := a.GetProcess(res.PID)
	if err != nil || info.PID != res.PID || info.PPID != uint32(os.Getpid()) {
		t.Fatalf("GetProcess: %+v %v", info, err)
	}
	done, err := a.TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited {
		t.Fatalf("TerminateTree: %+v %v", done, err)
	}
	// The adapter reaped its job: no zombie is left.
	if !proc.Reaped() {
		t.Fatal("the adapter did not reap its job")
	}
	_, err = a.TerminateTree(res.PID, TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrNotFound)
	w, err := a.Wait(res.PID)
	if err != nil || w.Signal == nil || *w.Signal != sysprims.SIGTERM {
		t.Fatalf("Wait after TerminateTree: %+v %v", w, err)
	}
	_, err = a.Wait(res.PID)
	wantCode(t, err, sysprims.ErrNotFound)
}

func TestSysprimsAdapterReapsAndRefusesExitedJobs(t *testing.T) {
	a := &SysprimsAdapter{}
	res, err := a.SpawnInGroup(SpawnInGroupConfig{Argv: []string{"sh", "-c", "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	track(t, a, res)
	w, err := a.Wait(res.PID)
	if err != nil || w.ExitCode == nil || *w.ExitCode != 3 {
		t.Fatalf("Wait: %+v %v", w, err)
	}
	if testutil.Children()[int(res.PID)] {
		t.Fatal("not reaped")
	}
	_, err = a.TerminateTree(res.PID, TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrNotFound)

	// A job that exits on its own while nobody waits: TerminateTree does not signal
	// whatever may have its PID now.
	res, err = a.SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if proc := track(t, a, res); proc != nil {
		proc.WaitExit(fifoTimeout)
	}
	out, err := a.TerminateTree(res.PID, TerminateTreeConfig{})
	if err == nil && !out.Exited {
		t.Fatalf("TerminateTree of an exited job: %+v", out)
	}
	if err != nil {
		wantCode(t, err, sysprims.ErrNotFound)
	}
}

// A supervisor waits for each job in one goroutine and stops it from another: the adapter
// keeps the two apart (the library alone fails such a termination with a System error).
func TestSysprimsAdapterConcurrentWaitAndTerminate(t *testing.T) {
	a := &SysprimsAdapter{}
	for range 100 {
		res, err := a.SpawnInGroup(SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
		if err != nil {
			t.Fatal(err)
		}
		track(t, a, res)
		waited := make(chan *WaitPIDResult, 1)
		go func() {
			w, err := a.Wait(res.PID)
			if err != nil {
				t.Error(err)
			}
			waited <- w
		}()
		done, err := a.TerminateTree(res.PID, TerminateTreeConfig{})
		if err != nil || !done.Exited {
			t.Fatalf("TerminateTree: %+v %v", done, err)
		}
		w := <-waited
		if w == nil || w.Signal == nil || *w.Signal != sysprims.SIGTERM {
			t.Fatalf("Wait: %+v", w)
		}
	}
}

// (The scripts that are read after they report ready do not exec: an exec after the report
// would change the executable and command line under the reads.)
func TestLegacyAdapterMatchesSysprimsIdentity(t *testing.T) {
	l := &LegacyAdapter{}
	res, _, _ := spawnReady(t, l, SpawnInGroupConfig{}, `echo $$ > "$1"; sleep 1000; :`)
	legacy, err := l.GetProcess(res.PID)
	if err != nil {
		t.Fatal(err)
	}
	lib, err := sysprims.ProcessGet(res.PID)
	if err != nil {
		t.Fatal(err)
	}
	if legacy.PID != lib.PID || legacy.PPID != lib.PPID || legacy.PGID != lib.PGID || legacy.Name != lib.Name ||
		!slices.Equal(legacy.Cmdline, lib.Cmdline) || *legacy.ExePath != *lib.ExePath ||
		*legacy.StartTimeUnixMS != *lib.StartTimeUnixMS || *legacy.StartTimeUnixMs != *lib.StartTimeUnixMs {
		t.Fatalf("legacy %+v\nsysprims %+v", legacy, lib)
	}
	if res.PGID == nil || *res.PGID != res.PID || lib.PGID != res.PID {
		t.Fatalf("not a group leader: %+v", res)
	}
	if res.TreeKillReliability != sysprims.ReliabilityBestEffort || len(res.Warnings) == 0 {
		t.Fatalf("legacy spawn result %+v", res)
	}
	_, err = l.GetProcess(0)
	wantCode(t, err, sysprims.ErrInvalidArgument)
}

func TestLegacyAdapterTerminatesGroup(t *testing.T) {
	l := &LegacyAdapter{}
	res, proc, pids := spawnReady(t, l, SpawnInGroupConfig{}, `sleep 1000 & echo $! > "$1"; wait`)
	member := testutil.OpenPidfd(t, pids[0])
	done, err := l.TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited || done.Escalated || done.TreeKillReliability != sysprims.ReliabilityBestEffort || len(done.Warnings) == 0 {
		t.Fatalf("TerminateTree: %+v %v", done, err)
	}
	if !member.WaitExit(fifoTimeout) {
		t.Fatal("a group member survived")
	}
	if !proc.Reaped() {
		t.Fatal("the legacy adapter did not reap its job")
	}
	_, err = l.TerminateTree(res.PID, TerminateTreeConfig{})
	if err == nil {
		t.Fatal("a second TerminateTree of a reaped job signalled something")
	}
}

func TestLegacyAdapterEscalates(t *testing.T) {
	l := &LegacyAdapter{}
	res, _, _ := spawnReady(t, l, SpawnInGroupConfig{}, `trap '' TERM; echo $$ > "$1"; exec sleep 1000`)
	done, err := l.TerminateTree(res.PID, TerminateTreeConfig{GraceTimeoutMS: u64(50)})
	if err != nil || !done.Escalated || !done.Exited {
		t.Fatalf("TerminateTree: %+v %v", done, err)
	}
}

// The legacy adapter's known limit, which sysprims removes: a setsid escapee leaves the
// process group and survives.
func TestLegacyAdapterMissesSetsidEscapee(t *testing.T) {
	l := &LegacyAdapter{}
	res, _, pids := spawnReady(t, l, SpawnInGroupConfig{},
		`setsid sh -c 'echo $$ > "$0.esc"; exec sleep 1000' "$1" & while [ ! -s "$1.esc" ]; do :; done; echo $(cat "$1.esc") > "$1"; wait`)
	escapee := testutil.OpenPidfd(t, pids[0])
	done, err := l.TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited {
		t.Fatalf("TerminateTree: %+v %v", done, err)
	}
	if escapee.Exited() {
		t.Fatal("the escapee died: the legacy adapter reached outside its group?")
	}
	if !strings.Contains(strings.Join(done.Warnings, " "), "setsid") {
		t.Errorf("warnings do not say so: %q", done.Warnings)
	}
}

func TestLegacyAdapterGuards(t *testing.T) {
	l := &LegacyAdapter{}
	_, err := l.TerminateTree(0, TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrInvalidArgument)
	_, err = l.TerminateTree(1<<31, TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrInvalidArgument)
	_, err = l.TerminateTree(uint32(os.Getpid()), TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrInvalidArgument)
	_, err = l.SpawnInGroup(SpawnInGroupConfig{})
	wantCode(t, err, sysprims.ErrInvalidArgument)
	_, err = l.SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Containment: sysprims.ContainmentCgroup})
	wantCode(t, err, sysprims.ErrNotSupported)
	_, err = l.SpawnInGroup(SpawnInGroupConfig{Argv: []string{"/nonexistent/sysprims-no-such-program"}})
	wantCode(t, err, sysprims.ErrSpawnFailed)

	// A process it did not spawn, leading its own group: the guard is checked, then it is
	// watched by polling.
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	proc := testutil.Track(t, cmd.Process.Pid, "")
	go cmd.Wait()
	info, _ := l.GetProcess(uint32(cmd.Process.Pid))
	_, err = l.TerminateTree(uint32(cmd.Process.Pid), TerminateTreeConfig{RequireStartTimeMS: u64(*info.StartTimeUnixMS + 10)})
	wantCode(t, err, sysprims.ErrNotFound)
	if proc.Exited() {
		t.Fatal("a failed guard signalled")
	}
	done, err := l.TerminateTree(uint32(cmd.Process.Pid), TerminateTreeConfig{RequireStartTimeMS: info.StartTimeUnixMS})
	if err != nil || !done.Exited {
		t.Fatalf("TerminateTree: %+v %v", done, err)
	}
}

func TestLegacyAdapterStdioEnv(t *testing.T) {
	l := &LegacyAdapter{}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	res, err := l.SpawnInGroup(SpawnInGroupConfig{
		Argv: []string{"sh", "-c", `echo "$A|${HOME:-none}|$(pwd)"; exit 4`}, Cwd: dir,
		Env: map[string]string{"A": "x"}, EnvClear: true, Stdout: sysprims.StdioFile(out, false), Stdin: sysprims.StdioNull,
	})
	if err != nil {
		t.Fatal(err)
	}
	track(t, l, res)
	w, err := l.Wait(res.PID)
	if err != nil || w.ExitCode == nil || *w.ExitCode != 4 {
		t.Fatalf("Wait: %+v %v", w, err)
	}
	if got, _ := os.ReadFile(out); string(got) != "x|none|"+dir+"\n" {
		t.Fatalf("stdout %q", got)
	}
}

func TestFallbackAdapterUsesSysprimsAndReportsMetrics(t *testing.T) {
	ev := &events{}
	f := NewFallbackAdapter(Options{FallbackToLegacy: true, Metrics: ev})
	res, _, _ := spawnReady(t, f, SpawnInGroupConfig{}, `trap '' TERM; echo $$ > "$1"; exec sleep 1000`)
	spawned := ev.last(t)
	if spawned.Op != OpSpawnInGroup || spawned.Backend != BackendSysprims || spawned.FellBack || spawned.PID != res.PID ||
		spawned.TreeKillReliability != res.TreeKillReliability || spawned.Err != nil {
		t.Fatalf("spawn event %+v", spawned)
	}
	done, err := f.TerminateTree(res.PID, TerminateTreeConfig{GraceTimeoutMS: u64(50)})
	if err != nil || !done.Escalated {
		t.Fatalf("TerminateTree: %+v %v", done, err)
	}
	stopped := ev.last(t)
	if stopped.Op != OpTerminateTree || stopped.Backend != BackendSysprims || !stopped.Escalated ||
		stopped.TreeKillReliability != done.TreeKillReliability || !slices.Equal(stopped.Warnings, done.Warnings) {
		t.Fatalf("terminate event %+v", stopped)
	}
	if _, err := f.GetProcess(uint32(os.Getpid())); err != nil || ev.last(t).Op != OpGetProcess {
		t.Fatalf("GetProcess: %v %+v", err, ev.last(t))
	}

	// NotFound is never degraded to legacy: the PID may be someone else's now.
	_, err = f.TerminateTree(res.PID, TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrNotFound)
	if e := ev.last(t); e.FellBack || e.Backend != BackendSysprims || !errors.Is(e.Err, sysprims.ErrNotFound) {
		t.Fatalf("NotFound event %+v", e)
	}
}

// refusing stands for sysprims in a hardened environment: every call is refused with a
// safe-to-degrade error.
type refusing struct{ err error }

func (r refusing) GetProcess(uint32) (*ProcessInfo, error) { return nil, r.err }
func (r refusing) SpawnInGroup(SpawnInGroupConfig) (*SpawnInGroupResult, error) {
	return nil, r.err
}
func (r refusing) TerminateTree(uint32, TerminateTreeConfig) (*TerminateTreeResult, error) {
	return nil, r.err
}

func TestFallbackAdapterDegradesOnlyBehindTheOption(t *testing.T) {
	for _, refusal := range []error{
		&sysprims.Error{Code: sysprims.CodePermissionDenied, Message: "hardened container"},
		&sysprims.Error{Code: sysprims.CodeNotSupported, Message: "old kernel"},
	} {
		// Off: the error is returned as it is.
		ev := &events{}
		off := NewFallbackAdapter(Options{Sysprims: refusing{refusal}, Metrics: ev})
		_, err := off.SpawnInGroup(SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
		if !errors.Is(err, refusal) && !errors.Is(err, refusal.(*sysprims.Error).Code.Sentinel()) {
			t.Fatalf("without the option: %v", err)
		}
		if e := ev.last(t); e.FellBack || e.Backend != BackendSysprims {
			t.Fatalf("event %+v", e)
		}

		// On: legacy does the work, the event says so, and the legacy job is ended by legacy.
		ev = &events{}
		on := NewFallbackAdapter(Options{Sysprims: refusing{refusal}, FallbackToLegacy: true, Metrics: ev})
		res, _, _ := spawnReady(t, on, SpawnInGroupConfig{}, `echo $$ > "$1"; exec sleep 1000`)
		if e := ev.last(t); !e.FellBack || e.Backend != BackendLegacy || e.SysprimsErr != refusal || e.TreeKillReliability != sysprims.ReliabilityBestEffort {
			t.Fatalf("fallback spawn event %+v", e)
		}
		done, err := on.TerminateTree(res.PID, TerminateTreeConfig{})
		if err != nil || !done.Exited {
			t.Fatalf("TerminateTree: %+v %v", done, err)
		}
		if e := ev.last(t); e.Backend != BackendLegacy || e.FellBack {
			t.Fatalf("terminate of a legacy job should go straight to legacy: %+v", e)
		}
		info, err := on.GetProcess(uint32(os.Getpid()))
		if err != nil || info.PID != uint32(os.Getpid()) || !ev.last(t).FellBack {
			t.Fatalf("GetProcess fallback: %+v %v %+v", info, err, ev.last(t))
		}
	}
	// Other errors never fall back.
	ev := &events{}
	f := NewFallbackAdapter(Options{Sysprims: refusing{&sysprims.Error{Code: sysprims.CodeNotFound}}, FallbackToLegacy: true, Metrics: ev})
	_, err := f.TerminateTree(12345, TerminateTreeConfig{})
	wantCode(t, err, sysprims.ErrNotFound)
	if ev.last(t).FellBack {
		t.Fatal("NotFound fell back")
	}
}

func TestFallbackAdapterFeatureFlagOff(t *testing.T) {
	ev := &events{}
	f := NewFallbackAdapter(Options{DisableSysprims: true, Metrics: ev})
	res, _, _ := spawnReady(t, f, SpawnInGroupConfig{}, `echo $$ > "$1"; exec sleep 1000`)
	if e := ev.last(t); e.Backend != BackendLegacy || e.FellBack || res.Containment != sysprims.ContainmentKindProcessGroup {
		t.Fatalf("event %+v, result %+v", e, res)
	}
	done, err := f.TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited || ev.last(t).Backend != BackendLegacy {
		t.Fatalf("TerminateTree: %+v %v %+v", done, err, ev.last(t))
	}
}

// In a real hardened environment: an unprivileged supervisor asked to stop a process it may
// not signal. sysprims says PermissionDenied, the adapter falls back, legacy is refused too,
// and nothing is signalled. (Runs this test binary again as nobody.)
func TestFallbackAdapterRealPermissionDenied(t *testing.T) {
	testutil.Need(t, os.Geteuid() == 0, "needs root, to run a helper as nobody")
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	target := testutil.Track(t, cmd.Process.Pid, "")
	go cmd.Wait()

	// t.TempDir's parent is private to root: nobody needs a directory it can enter.
	dir, err := os.MkdirTemp("", "sysprims-adapter-helper-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	self, _ := os.Executable()
	bin := filepath.Join(dir, "adapter.test")
	copyFile(t, self, bin)
	helper := exec.Command(bin, "-test.run=^$")
	helper.Env = append(os.Environ(), "SYSPRIMS_ADAPTER_HELPER=terminate", "SYSPRIMS_ADAPTER_TARGET="+strconv.Itoa(cmd.Process.Pid))
	helper.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := helper.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	var report helperReport
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("helper output %s: %v", out, err)
	}
	if !report.FellBack || report.Backend != BackendLegacy || report.SysprimsCode != int(sysprims.CodePermissionDenied) || report.Code != int(sysprims.CodePermissionDenied) {
		t.Fatalf("helper report %+v %+v", report, report.Result)
	}
	if target.Exited() {
		t.Fatal("the target was signalled")
	}
}

type helperReport struct {
	Backend      string
	FellBack     bool
	SysprimsCode int
	Code         int
	Err          string
	Result       *TerminateTreeResult
}

func TestMain(m *testing.M) {
	if os.Getenv("SYSPRIMS_ADAPTER_HELPER") == "terminate" {
		os.Exit(runHelper())
	}
	os.Exit(m.Run())
}

func runHelper() int {
	pid, _ := strconv.Atoi(os.Getenv("SYSPRIMS_ADAPTER_TARGET"))
	var last Event
	f := NewFallbackAdapter(Options{FallbackToLegacy: true, Metrics: MetricsFunc(func(e Event) { last = e })})
	res, err := f.TerminateTree(uint32(pid), TerminateTreeConfig{GraceTimeoutMS: u64(10), KillTimeoutMS: u64(10)})
	code := func(err error) int {
		var e *sysprims.Error
		if errors.As(err, &e) {
			return int(e.Code)
		}
		return 0
	}
	r := helperReport{Backend: last.Backend, FellBack: last.FellBack, SysprimsCode: code(last.SysprimsErr), Code: code(err), Err: fmt.Sprint(err), Result: res}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInstrument(t *testing.T) {
	ev := &events{}
	a := Instrument(&LegacyAdapter{}, BackendLegacy, ev)
	res, _, _ := spawnReady(t, a, SpawnInGroupConfig{}, `echo $$ > "$1"; exec sleep 1000`)
	if e := ev.last(t); e.Op != OpSpawnInGroup || e.Backend != BackendLegacy || e.PID != res.PID || len(e.Warnings) == 0 {
		t.Fatalf("event %+v", e)
	}
	if _, err := a.TerminateTree(res.PID, TerminateTreeConfig{}); err != nil {
		t.Fatal(err)
	}
	if e := ev.last(t); e.Op != OpTerminateTree || e.TreeKillReliability != sysprims.ReliabilityBestEffort {
		t.Fatalf("event %+v", e)
	}
	a.GetProcess(0)
	if e := ev.last(t); e.Op != OpGetProcess || !errors.Is(e.Err, sysprims.ErrInvalidArgument) {
		t.Fatalf("event %+v", e)
	}
}

func TestJobRecord(t *testing.T) {
	a := &SysprimsAdapter{}
	res, _, _ := spawnReady(t, a, SpawnInGroupConfig{}, `echo $$ > "$1"; sleep 1000; :`)
	fromSpawn := RecordFromSpawn(res)
	info, err := sysprims.ProcessGet(res.PID)
	if err != nil {
		t.Fatal(err)
	}
	fromInfo := RecordFromInfo(info)
	cmdlineOnly := JobRecord{PID: res.PID, Cmdline: info.Cmdline, Name: info.Name}
	// A record survives being stored as JSON.
	data, _ := json.Marshal(fromSpawn)
	var stored JobRecord
	json.Unmarshal(data, &stored)

	for name, r := range map[string]JobRecord{"spawn": fromSpawn, "info": fromInfo, "cmdline": cmdlineOnly, "stored": stored} {
		if ok, err := r.VerifyIdentity(); !ok || err != nil {
			t.Errorf("%s: VerifyIdentity %v %v", name, ok, err)
		}
	}
	stale := fromInfo
	stale.StartTimeMs = u64(*fromInfo.StartTimeMs - 10)
	if ok, err := stale.VerifyIdentity(); ok || err != nil {
		t.Errorf("stale start time: %v %v", ok, err)
	}
	otherCmd := cmdlineOnly
	otherCmd.Cmdline = []string{"something", "else"}
	if ok, err := otherCmd.VerifyIdentity(); ok || err != nil {
		t.Errorf("other cmdline: %v %v", ok, err)
	}
	if _, err := (&JobRecord{PID: res.PID}).VerifyIdentity(); !errors.Is(err, ErrIdentityUnknown) {
		t.Errorf("empty record: %v", err)
	}

	if _, err := a.TerminateTree(res.PID, TerminateTreeConfig{}); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]JobRecord{"spawn": fromSpawn, "info": fromInfo, "cmdline": cmdlineOnly} {
		if ok, err := r.VerifyIdentity(); ok || err != nil {
			t.Errorf("%s after exit: %v %v", name, ok, err)
		}
	}
}
