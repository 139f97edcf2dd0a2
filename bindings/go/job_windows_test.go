package sysprims_test

// The package on Windows, run under Wine by scripts/test-windows: the guide's three phases
// against a real job. The job is this test binary started again in helper mode (it blocks
// until ended), so the test needs no program Wine may lack.

import (
	"os"
	"testing"
	"time"

	"sysprims.dev/sysprims"
)

const helperEnv = "SYSPRIMS_GO_WINDOWS_HELPER"

// TestWindowsHelperProcess is the job's body when started by the tests below: it blocks
// until the job is ended. Run directly, it does nothing.
func TestWindowsHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	select {}
}

func TestWindowsProcessGetSelf(t *testing.T) {
	me := uint32(os.Getpid())
	info, err := sysprims.ProcessGet(me)
	if err != nil {
		t.Fatal(err)
	}
	if info.PID != me || info.StartTimeUnixMS == nil || info.ExePath == nil {
		t.Fatalf("ProcessGet(self) = %+v", info)
	}
	if _, err := sysprims.ProcessGet(0); err == nil {
		t.Fatal("ProcessGet(0) succeeded")
	}
}

func TestWindowsJobPhases(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res, err := sysprims.SpawnInGroup(sysprims.SpawnInGroupConfig{
		Argv: []string{exe, "-test.run=^TestWindowsHelperProcess$"},
		Env:  map[string]string{helperEnv: "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ended := false
	defer func() {
		if !ended {
			kill := uint64(0)
			sysprims.TerminateTree(res.PID, sysprims.TerminateTreeConfig{GraceTimeoutMS: &kill})
		}
	}()
	if res.PGID != nil {
		t.Errorf("PGID = %d, want nil on Windows", *res.PGID)
	}
	if res.TreeKillReliability != sysprims.ReliabilityGuaranteed {
		t.Errorf("reliability %q (warnings %q), want guaranteed (a Job Object)", res.TreeKillReliability, res.Warnings)
	}
	// Phase 1: the stored identity is the job's.
	info, err := sysprims.ProcessGet(res.PID)
	if err != nil {
		t.Fatal(err)
	}
	check, err := sysprims.VerifyIdentity(info.Identity())
	if err != nil || !check.Same() {
		t.Fatalf("VerifyIdentity = %+v, %v", check, err)
	}
	// Still running: a short wait times out.
	if w, err := sysprims.WaitPID(res.PID, 50*time.Millisecond); err != nil || w.Exited {
		t.Fatalf("WaitPID of a running job = %+v, %v", w, err)
	}
	// Phase 2: ended whole.
	grace, kill := uint64(2000), uint64(2000)
	out, err := sysprims.TerminateTree(res.PID, sysprims.TerminateTreeConfig{GraceTimeoutMS: &grace, KillTimeoutMS: &kill})
	if err != nil {
		t.Fatal(err)
	}
	ended = true
	if !out.Exited || len(out.Survivors) != 0 {
		t.Fatalf("TerminateTree = %+v", out)
	}
	// Its status: a Job Object termination for TERM exits with 128 + 15 (137 after KILL).
	w, err := sysprims.WaitPID(res.PID, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Exited || w.ExitCode == nil || (*w.ExitCode != 143 && *w.ExitCode != 137) {
		t.Fatalf("WaitPID after TerminateTree = %+v", w)
	}
}
