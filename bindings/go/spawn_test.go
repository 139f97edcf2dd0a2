//go:build linux

package sysprims

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"sysprims.dev/sysprims/internal/testutil"
)

func TestSpawnInGroupRunsInItsOwnGroupAndCgroup(t *testing.T) {
	needCgroup(t)
	dir := t.TempDir()
	res, proc, pids := spawnReady(t, SpawnInGroupConfig{Cwd: dir, Env: map[string]string{"SYSPRIMS_GO": "yes"}},
		`echo $$ > "$1"; [ "$SYSPRIMS_GO" = yes ] && [ "$(pwd)" = "$PWD" ] && pwd > out && exec sleep 1000`)
	if pids[0] != int(res.PID) {
		t.Fatalf("child says its PID is %d, spawn says %d", pids[0], res.PID)
	}
	if res.SchemaID != "https://sysprims.dev/schemas/spawn-in-group-result/v1.json" {
		t.Errorf("schema %q", res.SchemaID)
	}
	if res.PGID == nil || *res.PGID != res.PID {
		t.Fatalf("pgid %v, want %d", res.PGID, res.PID)
	}
	if pgid, _ := syscall.Getpgid(int(res.PID)); pgid != int(res.PID) {
		t.Errorf("the kernel says pgid %d", pgid)
	}
	if res.TreeKillReliability != ReliabilityGuaranteed || res.Containment != ContainmentKindCgroupV2 || res.Cgroup == nil {
		t.Fatalf("containment: %+v", res)
	}
	mount, _ := testutil.Cgroup2Mount()
	if got := filepath.Join(mount, cgroupOf(int(res.PID))); got != *res.Cgroup {
		t.Errorf("the kernel puts the child in %s, spawn says %s", got, *res.Cgroup)
	}
	if want := "sysprims-job-" + strconv.Itoa(os.Getpid()) + "-"; !strings.HasPrefix(filepath.Base(*res.Cgroup), want) {
		t.Errorf("cgroup name %s, want prefix %s", *res.Cgroup, want)
	}
	if res.Identity.PID != res.PID || res.Identity.StartTimeUnixMS == nil {
		t.Errorf("identity %+v", res.Identity)
	}

	done, err := TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited {
		t.Fatalf("terminate: %+v %v", done, err)
	}
	w, err := WaitPID(res.PID, NoTimeout)
	if err != nil || !w.Exited || w.Signal == nil || *w.Signal != SIGTERM {
		t.Fatalf("wait: %+v %v", w, err)
	}
	if !proc.Reaped() {
		t.Error("WaitPID did not reap the child")
	}
	if _, err := os.Stat(*res.Cgroup); !os.IsNotExist(err) {
		t.Errorf("the job cgroup %s is still there: %v", *res.Cgroup, err)
	}
}

func TestSpawnInGroupEnvCwdStdio(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	errPath := filepath.Join(dir, "err")
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("from stdin\n"), 0o644)
	res, _ := spawn(t, SpawnInGroupConfig{
		Argv:     []string{"sh", "-c", `read line; echo "$line|$A|${HOME:-nohome}|$(pwd)"; echo oops >&2; exit 7`},
		Cwd:      dir,
		Env:      map[string]string{"A": "b c"},
		EnvClear: true,
		Stdin:    StdioFile(in, false),
		Stdout:   StdioFile(out, false),
		Stderr:   StdioFile(errPath, true),
	})
	w, err := WaitPID(res.PID, NoTimeout)
	if err != nil || w.ExitCode == nil || *w.ExitCode != 7 {
		t.Fatalf("wait: %+v %v", w, err)
	}
	got, _ := os.ReadFile(out)
	if want := "from stdin|b c|nohome|" + dir + "\n"; string(got) != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if got, _ := os.ReadFile(errPath); string(got) != "oops\n" {
		t.Errorf("stderr %q", got)
	}

	res, _ = spawn(t, SpawnInGroupConfig{Argv: []string{"sh", "-c", "echo again >&2"}, Stdout: StdioNull, Stderr: StdioFile(errPath, true)})
	WaitPID(res.PID, NoTimeout)
	if got, _ := os.ReadFile(errPath); string(got) != "oops\nagain\n" {
		t.Errorf("appended stderr %q", got)
	}
}

// The guide's Phase 3 starts "./worker" with Cwd: the program is found in the new working
// directory.
func TestSpawnInGroupRelativeProgramInCwd(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "worker"), []byte("#!/bin/sh\nexit 5\n"), 0o755)
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"./worker"}, Cwd: dir})
	w, err := WaitPID(res.PID, NoTimeout)
	if err != nil || w.ExitCode == nil || *w.ExitCode != 5 {
		t.Fatalf("wait: %+v %v", w, err)
	}
}

func TestSpawnInGroupProcessGroupOnly(t *testing.T) {
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}, Containment: ContainmentProcessGroup})
	if res.TreeKillReliability != ReliabilityBestEffort || res.Containment != ContainmentKindProcessGroup || res.Cgroup != nil {
		t.Fatalf("containment: %+v", res)
	}
	if len(res.Warnings) == 0 {
		t.Error("best_effort without a warning saying why")
	}
}

func TestSpawnInGroupErrors(t *testing.T) {
	before := testutil.Children()
	_, err := SpawnInGroup(SpawnInGroupConfig{})
	wantCode(t, err, CodeInvalidArgument)
	_, err = SpawnInGroup(SpawnInGroupConfig{Argv: []string{}})
	wantCode(t, err, CodeInvalidArgument)
	_, err = SpawnInGroup(SpawnInGroupConfig{Argv: []string{"/nonexistent/sysprims-no-such-program"}})
	wantCode(t, err, CodeSpawnFailed)
	if !strings.Contains(err.Error(), "sysprims-no-such-program") {
		t.Errorf("the error should name the program: %v", err)
	}
	_, err = SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Cwd: "/nonexistent/sysprims-dir"})
	wantCode(t, err, CodeSpawnFailed)
	_, err = SpawnInGroup(SpawnInGroupConfig{Argv: []string{"echo", "a\x00b"}})
	wantCode(t, err, CodeInvalidArgument)
	_, err = SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Env: map[string]string{"A=B": "x"}})
	wantCode(t, err, CodeInvalidArgument)
	// A cgroup parent outside the cgroup2 hierarchy is bad input, named, in any containment mode.
	outside := t.TempDir()
	for _, mode := range []Containment{ContainmentCgroup, ContainmentAuto} {
		_, err = SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Containment: mode, CgroupParent: outside})
		wantCode(t, err, CodeInvalidArgument)
		if err != nil && !strings.Contains(err.Error(), outside) {
			t.Errorf("the error should name the cgroup parent %q: %v", outside, err)
		}
	}
	// The library refuses an empty argv by itself too (a C caller has no Go check in front).
	_, err = rawSpawn(`{"argv": []}`)
	wantCode(t, err, CodeInvalidArgument)
	_, err = rawSpawn(`{"argv": ["true"], "no_such_key": 1}`)
	wantCode(t, err, CodeInvalidArgument)
	_, err = rawSpawn(`{"argv": ["true"`)
	wantCode(t, err, CodeInvalidArgument)
	// No failed spawn left a process behind.
	for pid := range testutil.Children() {
		if !before[pid] {
			t.Errorf("a failed spawn left child %d", pid)
		}
	}
	for _, dir := range testutil.JobCgroups() {
		t.Errorf("a failed spawn left cgroup %s", dir)
	}
}
