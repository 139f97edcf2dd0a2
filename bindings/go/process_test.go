//go:build linux

package sysprims

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sysprims.dev/sysprims/internal/testutil"
)

func TestProcessGetSelfMatchesProc(t *testing.T) {
	pid := os.Getpid()
	info, err := ProcessGet(uint32(pid))
	if err != nil {
		t.Fatal(err)
	}
	if info.PID != uint32(pid) || info.PPID != uint32(os.Getppid()) {
		t.Errorf("pid %d ppid %d, want %d %d", info.PID, info.PPID, pid, os.Getppid())
	}
	pgid, _ := syscall.Getpgid(pid)
	sid, _ := testutil.StatField(pid, 6)
	if info.PGID != uint32(pgid) || strconv.Itoa(int(info.SID)) != sid {
		t.Errorf("pgid %d sid %d, want %d %s", info.PGID, info.SID, pgid, sid)
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	if info.Name != strings.TrimSpace(string(comm)) {
		t.Errorf("name %q, want %q", info.Name, comm)
	}
	if info.UID != uint32(os.Geteuid()) {
		t.Errorf("uid %d, want %d", info.UID, os.Geteuid())
	}
	exe, _ := os.Executable()
	if info.ExePath == nil || *info.ExePath != exe {
		t.Errorf("exe %v, want %q", info.ExePath, exe)
	}
	if !slices.Equal(info.Cmdline, os.Args) {
		t.Errorf("cmdline %q, want %q", info.Cmdline, os.Args)
	}
	if info.State != StateRunning && info.State != StateSleeping {
		t.Errorf("state %q", info.State)
	}
	// The start time is boot time plus start ticks (10 ms each at USER_HZ 100), to the tick.
	if info.StartTimeUnixMS == nil {
		t.Fatal("no start time")
	}
	ticks, _ := testutil.StatField(pid, 22)
	startTicks, _ := strconv.ParseUint(ticks, 10, 64)
	stat, _ := os.ReadFile("/proc/stat")
	var btime uint64
	for _, line := range strings.Split(string(stat), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			btime, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	if want := btime*1000 + startTicks*10; *info.StartTimeUnixMS != want {
		t.Errorf("start %d, want btime*1000 + ticks*10 = %d", *info.StartTimeUnixMS, want)
	}
}

// The guide spells the start time StartTimeUnixMS in one snippet and StartTimeUnixMs in the
// other: both must hold the same value, and stay equal across reads.
func TestProcessGetBothStartTimeSpellings(t *testing.T) {
	info, err := ProcessGet(uint32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if info.StartTimeUnixMS == nil || info.StartTimeUnixMs != info.StartTimeUnixMS {
		t.Fatalf("StartTimeUnixMS %v and StartTimeUnixMs %v are not the same pointer", info.StartTimeUnixMS, info.StartTimeUnixMs)
	}
	for range 20 {
		again, err := ProcessGet(uint32(os.Getpid()))
		if err != nil {
			t.Fatal(err)
		}
		if *again.StartTimeUnixMs != *info.StartTimeUnixMS {
			t.Fatalf("start time changed between reads: %d then %d", *info.StartTimeUnixMS, *again.StartTimeUnixMs)
		}
	}
	// JSON: one key, and decoding sets both.
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "start_time_unix_ms") != 1 {
		t.Fatalf("want exactly one start_time_unix_ms key: %s", data)
	}
	var back ProcessInfo
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.StartTimeUnixMs == nil || *back.StartTimeUnixMs != *info.StartTimeUnixMS || back.StartTimeUnixMS != back.StartTimeUnixMs {
		t.Fatalf("decoded start times %v %v", back.StartTimeUnixMS, back.StartTimeUnixMs)
	}
	// A value set under the second spelling only is still encoded.
	only := ProcessInfo{PID: 1, StartTimeUnixMs: u64(42)}
	data, _ = json.Marshal(only)
	if !strings.Contains(string(data), `"start_time_unix_ms":42`) {
		t.Fatalf("StartTimeUnixMs alone was not encoded: %s", data)
	}
}

func TestProcessGetChildAndGone(t *testing.T) {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	proc := testutil.Track(t, cmd.Process.Pid, "")
	info, err := ProcessGet(uint32(cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if info.PPID != uint32(os.Getpid()) || info.Name != "sleep" || !slices.Equal(info.Cmdline, []string{"sleep", "1000"}) {
		t.Errorf("child: ppid %d name %q cmdline %q", info.PPID, info.Name, info.Cmdline)
	}
	if info.ExePath == nil || !strings.HasSuffix(*info.ExePath, "/sleep") {
		t.Errorf("exe %v", info.ExePath)
	}
	proc.Signal(syscall.SIGKILL)
	cmd.Wait()
	_, err = ProcessGet(uint32(cmd.Process.Pid))
	wantCode(t, err, CodeNotFound)
	if !strings.Contains(err.Error(), "ProcessGet") || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("error should name the operation and the PID: %v", err)
	}
}

func TestProcessList(t *testing.T) {
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	snap, err := ProcessList(&SnapshotOptions{Filter: ProcessFilter{PIDs: []uint32{res.PID, uint32(os.Getpid())}}})
	if err != nil {
		t.Fatal(err)
	}
	if snap.SchemaID != "https://sysprims.dev/schemas/process-snapshot/v1.json" || snap.TimestampUnixMS == 0 {
		t.Errorf("snapshot header: %+v", snap)
	}
	var pids []uint32
	for _, p := range snap.Processes {
		pids = append(pids, p.PID)
		if p.StartTimeUnixMs != p.StartTimeUnixMS {
			t.Errorf("pid %d: start time spellings differ", p.PID)
		}
	}
	want := []uint32{res.PID, uint32(os.Getpid())}
	slices.Sort(want)
	if !slices.Equal(pids, want) {
		t.Fatalf("pids %v, want %v", pids, want)
	}

	ppid := uint32(os.Getpid())
	snap, err = ProcessList(&SnapshotOptions{Filter: ProcessFilter{PPID: &ppid, NameEquals: "sleep"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Processes) != 1 || snap.Processes[0].PID != res.PID {
		t.Fatalf("children named sleep: %+v", snap.Processes)
	}

	// An empty (non-nil) PID list selects nothing; nil selects all.
	snap, err = ProcessList(&SnapshotOptions{Filter: ProcessFilter{PIDs: []uint32{}}})
	if err != nil || len(snap.Processes) != 0 {
		t.Fatalf("empty PID list: %d processes, %v", len(snap.Processes), err)
	}
	all, err := ProcessList(nil)
	if err != nil || len(all.Processes) < 3 {
		t.Fatalf("all processes: %v", err)
	}
	limit := uint64(2)
	top, err := ProcessList(&SnapshotOptions{Sort: SortMemory, Limit: &limit})
	if err != nil || len(top.Processes) != 2 || top.Processes[0].MemoryKB < top.Processes[1].MemoryKB {
		t.Fatalf("top 2 by memory: %+v %v", top, err)
	}

	_, err = ProcessList(&SnapshotOptions{Filter: ProcessFilter{User: "no-such-user-sysprims"}})
	wantCode(t, err, CodeInvalidArgument)
	_, err = ProcessList(&SnapshotOptions{Filter: ProcessFilter{PIDs: []uint32{0}}})
	wantCode(t, err, CodeInvalidArgument)
}

func TestDescendants(t *testing.T) {
	// sh -> (sleep, sh -> sleep)
	res, _, pids := spawnReady(t, SpawnInGroupConfig{},
		`sleep 1000 & a=$!; sh -c 'sleep 1000 & echo $! > "$0"; wait' "$1.inner" & b=$!;
		 while [ ! -s "$1.inner" ]; do :; done
		 echo $$ $a $b $(cat "$1.inner") > "$1"; wait`)
	_ = res
	root, a, b, c := pids[0], pids[1], pids[2], pids[3]
	tree, err := Descendants(uint32(root), -1)
	if err != nil {
		t.Fatal(err)
	}
	if tree.RootPID != uint32(root) || tree.MaxLevels != nil || tree.Nodes[0].PID != uint32(root) || tree.Nodes[0].Depth != 0 {
		t.Fatalf("root: %+v", tree.Nodes[0])
	}
	depth := map[uint32]uint32{}
	for _, n := range tree.Nodes {
		depth[n.PID] = n.Depth
	}
	want := map[uint32]uint32{uint32(root): 0, uint32(a): 1, uint32(b): 1, uint32(c): 2}
	if !reflect.DeepEqual(depth, want) {
		t.Fatalf("depths %v, want %v", depth, want)
	}
	var kids []uint32
	for _, n := range tree.Children(0) {
		kids = append(kids, n.PID)
	}
	slices.Sort(kids)
	if !slices.Equal(kids, []uint32{uint32(a), uint32(b)}) {
		t.Fatalf("children of root %v", kids)
	}

	one, err := Descendants(uint32(root), 1)
	if err != nil {
		t.Fatal(err)
	}
	if one.MaxLevels == nil || *one.MaxLevels != 1 || len(one.Nodes) != 3 {
		t.Fatalf("one level: %+v", one)
	}
	_, err = Descendants(uint32(root), 0)
	wantCode(t, err, CodeInvalidArgument)
	// Nodes encode with their depth and the process's fields in one object, as the library does.
	data, _ := json.Marshal(one.Nodes[1])
	var flat map[string]any
	json.Unmarshal(data, &flat)
	if flat["depth"] != 1.0 || flat["pid"] == nil {
		t.Fatalf("node JSON %s", data)
	}
}

func TestVerifyIdentity(t *testing.T) {
	res, proc := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	check, err := VerifyIdentity(res.Identity)
	if err != nil || !check.Same() {
		t.Fatalf("fresh identity: %+v %v", check, err)
	}
	// The seed's fields only (start time and exe path) suffice.
	weak := ProcessIdentity{PID: res.PID, StartTimeUnixMS: res.Identity.StartTimeUnixMS, ExePath: res.Identity.ExePath}
	if check, err := VerifyIdentity(weak); err != nil || !check.Same() {
		t.Fatalf("weak identity: %+v %v", check, err)
	}
	// Another start time: reused, with the evidence.
	other := weak
	other.StartTimeUnixMS = u64(*weak.StartTimeUnixMS - 10)
	check, err = VerifyIdentity(other)
	if err != nil || check.Status != IdentityReused || check.Reason == nil || check.Reason.Kind != ReuseStartTimeMismatch {
		t.Fatalf("other start: %+v %v", check, err)
	}
	if !strings.Contains(check.Reason.String(), "start time mismatch") {
		t.Errorf("reason text %q", check.Reason.String())
	}
	// Nothing but a PID is not an identity.
	_, err = VerifyIdentity(ProcessIdentity{PID: res.PID})
	wantCode(t, err, CodeInvalidArgument)
	// Gone after it is reaped.
	proc.Signal(syscall.SIGKILL)
	proc.Reap()
	check, err = VerifyIdentity(res.Identity)
	if err != nil || check.Status != IdentityGone {
		t.Fatalf("after reaping: %+v %v", check, err)
	}
}

// The Go types keep every field of every document the library writes: each raw document and
// the Go value re-encoded have the same keys and values (null and absent counting as the same).
func TestJSONMatchesLibraryDocuments(t *testing.T) {
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}, Env: map[string]string{"SYSPRIMS_X": "1"}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	var raw []byte
	testHookJSON = func(op string, data []byte) { raw = append([]byte(nil), data...) }
	t.Cleanup(func() { testHookJSON = nil })
	cases := []struct {
		name string
		get  func() (any, error)
	}{
		{"process", func() (any, error) { return ProcessGet(res.PID) }},
		{"self", func() (any, error) { return ProcessGet(uint32(os.Getpid())) }},
		{"list", func() (any, error) { return ProcessList(&SnapshotOptions{Process: ProcessOptions{IncludeEnv: true}}) }},
		{"tree", func() (any, error) { return Descendants(1, -1) }},
		{"identity", func() (any, error) { return VerifyIdentity(res.Identity) }},
		{"reused", func() (any, error) {
			id := res.Identity
			id.PidfsInode = nil
			id.StartTimeBootTicks = nil
			id.StartTimeUnixMS = u64(1)
			return VerifyIdentity(id)
		}},
		{"fds", func() (any, error) { return ListFds(uint32(os.Getpid()), nil) }},
		{"ports", func() (any, error) { return ListeningPorts(&PortFilter{Port: &port}) }},
		{"wait", func() (any, error) { return WaitPID(res.PID, 0) }},
		{"kill", func() (any, error) { return KillMany([]uint32{res.PID, 1}, 0) }},
		{"guarded", func() (any, error) { return SignalIf(res.Identity, 0) }},
		{"spawn", func() (any, error) {
			r, err := SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}})
			if err == nil {
				doc := raw
				WaitPID(r.PID, NoTimeout)
				raw = doc
			}
			return r, err
		}},
		{"terminate", func() (any, error) { return TerminateTree(res.PID, TerminateTreeConfig{}) }},
		{"timeout completed", func() (any, error) {
			return RunWithTimeout([]string{"sh", "-c", "exit 4"}, time.Minute, TimeoutConfig{})
		}},
		{"timeout timed out", func() (any, error) {
			return RunWithTimeout([]string{"sleep", "1000"}, time.Millisecond, TimeoutConfig{})
		}},
	}
	for _, c := range cases {
		raw = nil
		v, err := c.get()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ours, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var want, got any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%s: library JSON: %v", c.name, err)
		}
		json.Unmarshal(ours, &got)
		if want, got := dropNulls(want), dropNulls(got); !reflect.DeepEqual(want, got) {
			t.Errorf("%s: the Go type loses or changes fields:\nlibrary: %s\nGo:      %s", c.name, raw, ours)
		}
	}
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x != nil {
				out[k] = dropNulls(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = dropNulls(x)
		}
		return out
	}
	return v
}

// A CPU sampling interval above one hour (math.MaxUint64 blocked forever) is refused.
func TestCPUSampleAboveAnHourIsInvalid(t *testing.T) {
	for _, ms := range []uint64{^uint64(0), 3_600_001} {
		ms := ms
		_, err := ProcessList(&SnapshotOptions{CPUSampleMS: &ms})
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), strconv.FormatUint(ms, 10)+" ms") {
			t.Errorf("ProcessList with CPUSampleMS %d: %v", ms, err)
		}
		_, err = KillDescendants(uint32(os.Getpid()), 0, &KillDescendantsOptions{CPUSampleMS: &ms, DryRun: true})
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), strconv.FormatUint(ms, 10)+" ms") {
			t.Errorf("KillDescendants with CPUSampleMS %d: %v", ms, err)
		}
	}
}
