//go:build linux

package sysprims

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sysprims.dev/sysprims/internal/testutil"
)

// fifoTimeout bounds how long a test waits for a child to report on a fifo: a safety net so a
// broken child fails the test instead of hanging it, never a synchronisation delay.
const fifoTimeout = 30 * time.Second

var (
	cgroupOnce sync.Once
	cgroupOK   bool
	cgroupWhy  string
)

// needCgroup skips (or fails under SYSPRIMS_REQUIRE_ALL=1) unless jobs get cgroups here.
func needCgroup(t *testing.T) {
	t.Helper()
	cgroupOnce.Do(func() { cgroupOK, cgroupWhy = testutil.CgroupWritable() })
	testutil.Need(t, cgroupOK, "needs a writable cgroup v2 with cgroup.kill: "+cgroupWhy)
}

// needRoot skips (or fails) unless running as root.
func needRoot(t *testing.T) {
	t.Helper()
	testutil.Need(t, os.Geteuid() == 0, "needs root")
}

// spawn starts a job and tracks it for cleanup (its process, group and cgroup are killed and
// it is reaped when the test ends, pass or fail).
func spawn(t *testing.T, config SpawnInGroupConfig) (*SpawnInGroupResult, *testutil.Proc) {
	t.Helper()
	res, err := SpawnInGroup(config)
	if err != nil {
		t.Fatalf("SpawnInGroup(%q): %v", config.Argv, err)
	}
	cgroup := ""
	if res.Cgroup != nil {
		cgroup = *res.Cgroup
	}
	return res, testutil.Track(t, int(res.PID), cgroup)
}

// spawnReady starts `sh -c script` where script writes a line to the fifo in $1 when it is
// ready, and returns the line's PIDs with the job.
func spawnReady(t *testing.T, config SpawnInGroupConfig, script string) (*SpawnInGroupResult, *testutil.Proc, []int) {
	t.Helper()
	fifo := testutil.Fifo(t)
	config.Argv = []string{"sh", "-c", script, "sh", fifo}
	res, proc := spawn(t, config)
	pids := testutil.ReadyPIDs(t, testutil.ReadFifo(t, fifo, fifoTimeout))
	return res, proc, pids
}

// wantCode fails unless err is a *Error with code, matching its sentinel with errors.Is.
func wantCode(t *testing.T, err error, code ErrorCode) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *sysprims.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("error code %v, want %v: %v", e.Code, code, err)
	}
	if !errors.Is(err, code.Sentinel()) {
		t.Fatalf("errors.Is(%v, %v) is false", err, code.Sentinel())
	}
}

// cgroupOf returns the cgroup v2 path of pid (the 0:: line of /proc/<pid>/cgroup).
func cgroupOf(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	for _, line := range strings.Split(string(data), "\n") {
		if rel, ok := strings.CutPrefix(line, "0::"); ok {
			return rel
		}
	}
	return ""
}

func u64(v uint64) *uint64 { return &v }
