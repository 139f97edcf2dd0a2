//go:build linux

package sysprims

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"sysprims.dev/sysprims/internal/testutil"
)

// 1,000 goroutines call ProcessGet, SpawnInGroup, TerminateTree and WaitPID at once: nothing
// crashes, every call does what it says, and afterwards no process carrying the test's marker
// is alive, no job cgroup of this process is left, no child is left unreaped and no file
// descriptor is leaked.
func TestThousandGoroutines(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 1000
	withCgroups, _ := testutil.CgroupWritable()
	self := uint32(os.Getpid())
	marker := testutil.Marker(t)
	sleep := testutil.MarkedSleep(t, marker)
	config := func(i int) SpawnInGroupConfig {
		if i%4 == 0 { // a small tree: sh and two sleeps
			return SpawnInGroupConfig{Argv: []string{"sh", "-c", `"$0" 1000 & "$0" 1000 & wait`, sleep}}
		}
		return SpawnInGroupConfig{Argv: []string{sleep, "1000"}}
	}

	var (
		mu    sync.Mutex
		held  []*testutil.Proc
		cgs   []string
		fails []string
	)
	// Whatever happens, every job is killed (through its cgroup and its pidfd) and reaped.
	t.Cleanup(func() {
		for _, cg := range cgs {
			testutil.KillCgroup(cg)
		}
		for _, p := range held {
			p.Destroy("")
		}
		for _, cg := range cgs {
			testutil.RemoveCgroup(cg)
		}
	})
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fails = append(fails, fmt.Sprintf(format, args...))
	}
	round := func(i int) {
		if me, err := ProcessGet(self); err != nil || me.PID != self {
			fail("ProcessGet(self): %v", err)
			return
		}
		res, err := SpawnInGroup(config(i))
		if err != nil {
			fail("SpawnInGroup: %v", err)
			return
		}
		if withCgroups && res.TreeKillReliability != ReliabilityGuaranteed {
			fail("job %d is %s where cgroups work: %v", res.PID, res.TreeKillReliability, res.Warnings)
		}
		p, err := testutil.Hold(int(res.PID))
		mu.Lock()
		if err == nil {
			held = append(held, p)
		}
		if res.Cgroup != nil {
			cgs = append(cgs, *res.Cgroup)
		}
		mu.Unlock()
		if err != nil {
			fail("%v", err)
			return
		}
		if info, err := ProcessGet(res.PID); err != nil || info.PPID != self {
			fail("ProcessGet(job %d): %+v %v", res.PID, info, err)
		}
		done, err := TerminateTree(res.PID, TerminateTreeConfig{})
		if err != nil || !done.Exited || len(done.Survivors) != 0 {
			fail("TerminateTree(%d): %+v %v", res.PID, done, err)
			return
		}
		w, err := WaitPID(res.PID, NoTimeout)
		if err != nil || !w.Exited {
			fail("WaitPID(%d): %+v %v", res.PID, w, err)
		}
	}

	// One round first, so that what the runtime and the library open once (epoll, cached
	// directory fds) is open before the fds are counted.
	round(0)
	for _, p := range held {
		p.Destroy("")
	}
	held = nil
	fdsBefore := testutil.OpenFDs()
	childrenBefore := testutil.Children()

	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			round(i)
		}()
	}
	close(start)
	wg.Wait()

	for i, f := range fails {
		if i == 10 {
			t.Errorf("... and %d more", len(fails)-10)
			break
		}
		t.Error(f)
	}
	if got := testutil.CountMarked(marker); got != 0 {
		t.Errorf("%d processes with the marker are still alive", got)
	}
	if left := testutil.JobCgroups(); len(left) != 0 {
		t.Errorf("%d job cgroups left, e.g. %s", len(left), left[0])
	}
	for pid := range testutil.Children() {
		if !childrenBefore[pid] {
			t.Errorf("child %d left behind (state %c)", pid, testutil.State(pid))
		}
	}
	for _, p := range held {
		p.Destroy("")
	}
	held = nil
	if after := testutil.OpenFDs(); after != fdsBefore {
		t.Errorf("%d fds open after, %d before", after, fdsBefore)
	}
}
