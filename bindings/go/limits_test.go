//go:build linux

package sysprims

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"sysprims.dev/sysprims/internal/testutil"
)

// needLimits skips (or fails) unless these limits can be applied to a job here.
func needLimits(t *testing.T, limits JobLimits) {
	t.Helper()
	needCgroup(t)
	res, err := SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Containment: ContainmentCgroup, Limits: limits})
	if err == nil {
		_, err = WaitPID(res.PID, NoTimeout)
	}
	why := ""
	if err != nil {
		why = err.Error()
	}
	testutil.Need(t, err == nil, "needs cgroup controllers for job limits: "+why)
}

func TestLimitsAreOmittedWhenZeroAndWrittenWhenSet(t *testing.T) {
	data, err := json.Marshal(SpawnInGroupConfig{Argv: []string{"true"}})
	if err != nil || strings.Contains(string(data), "limits") {
		t.Fatalf("zero limits: %s %v", data, err)
	}
	half := 0.5
	data, _ = json.Marshal(SpawnInGroupConfig{Argv: []string{"true"}, Limits: JobLimits{PidsMax: u64(8), CPUMax: &half}})
	if want := `"limits":{"pids_max":8,"cpu_max":0.5}`; !strings.Contains(string(data), want) {
		t.Fatalf("%s does not contain %s", data, want)
	}
}

func TestAJobPastItsMemoryLimitIsOOMKilledAndSaysSo(t *testing.T) {
	limits := JobLimits{MemoryMaxBytes: u64(64 << 20), MemorySwapMaxBytes: u64(0)}
	needLimits(t, limits)
	res, _ := spawn(t, SpawnInGroupConfig{
		Argv:        []string{"python3", "-c", "x = b'x' * (256 << 20)"},
		Containment: ContainmentCgroup,
		Limits:      limits,
		Stdin:       StdioNull,
	})
	w, err := WaitPID(res.PID, time.Minute)
	if err != nil || !w.Exited {
		t.Fatalf("wait: %+v %v", w, err)
	}
	if w.Signal == nil || *w.Signal != 9 || w.EndedBy == nil || *w.EndedBy != EndedByOOMKill {
		t.Fatalf("want an OOM kill, got %+v", w)
	}
	if w.Usage == nil || w.Usage.OOMKills == nil || *w.Usage.OOMKills < 1 {
		t.Fatalf("usage %+v", w.Usage)
	}
	if p := w.Usage.MemoryPeakBytes; p == nil || *p > 64<<20 {
		t.Errorf("peak memory %v under a 64 MiB limit", p)
	}
}

func TestTerminateTreeAndRunWithTimeoutReportUsage(t *testing.T) {
	limits := JobLimits{PidsMax: u64(16)}
	needLimits(t, limits)
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}, Limits: limits, Stdin: StdioNull})
	done, err := TerminateTree(res.PID, TerminateTreeConfig{})
	if err != nil || !done.Exited {
		t.Fatalf("terminate: %+v %v", done, err)
	}
	if done.Usage == nil || done.Usage.CPUUserUS == nil {
		t.Fatalf("usage %+v", done.Usage)
	}
	if _, err := WaitPID(res.PID, NoTimeout); err != nil {
		t.Fatal(err)
	}

	r, err := RunWithTimeout([]string{"sh", "-c", "exit 5"}, time.Minute, TimeoutConfig{Limits: JobLimits{PidsMax: u64(16)}, Stdin: StdioNull})
	if err != nil {
		t.Fatal(err)
	}
	if r.ExitStatus != 5 || r.EndedBy == nil || *r.EndedBy != EndedByExit || r.Usage == nil || r.Usage.CPUSystemUS == nil {
		t.Fatalf("report %+v usage %+v", r, r.Usage)
	}
}

func TestOutOfRangeLimitsAreInvalidArguments(t *testing.T) {
	zero := 0.0
	for _, limits := range []JobLimits{{PidsMax: u64(0)}, {MemoryMaxBytes: u64(1)}, {CPUMax: &zero}} {
		_, err := SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Limits: limits})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: %v", limits, err)
		}
	}
	_, err := SpawnInGroup(SpawnInGroupConfig{Argv: []string{"true"}, Containment: ContainmentProcessGroup, Limits: JobLimits{PidsMax: u64(4)}})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "process_group") {
		t.Errorf("limits without a cgroup: %v", err)
	}
}
