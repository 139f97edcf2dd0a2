//go:build linux

package sysprims

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ownThread returns the kernel ID of an OS thread of this process other than its main
// thread, held (locked to a parked goroutine) until the test ends.
func ownThread(t *testing.T) int {
	t.Helper()
	tids := make(chan int)
	stop := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		tids <- syscall.Gettid()
		<-stop
	}()
	tid := <-tids
	t.Cleanup(func() { close(stop) })
	if tid == os.Getpid() {
		t.Skip("the goroutine landed on the main thread")
	}
	return tid
}

// A thread ID is not a process: every entry point refuses it, naming the process, and sends
// nothing. Before the fix Kill(<tid>, SIGTERM) ended this test binary.
func TestThreadIDsAreNotProcesses(t *testing.T) {
	tid := uint32(ownThread(t))
	want := fmt.Sprintf("%d is a thread of process %d", tid, os.Getpid())
	check := func(what string, err error) {
		t.Helper()
		wantCode(t, err, CodeInvalidArgument)
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want it to say %q", what, err, want)
		}
	}
	check("Kill", Kill(tid, SIGTERM))
	check("Kill(probe)", Kill(tid, 0))
	_, err := KillMany([]uint32{tid}, SIGTERM)
	check("KillMany", err)
	start := uint64(1)
	_, err = SignalIf(ProcessIdentity{PID: tid, StartTimeUnixMS: &start}, SIGTERM)
	check("SignalIf", err)
	_, err = VerifyIdentity(ProcessIdentity{PID: tid, StartTimeUnixMS: &start})
	check("VerifyIdentity", err)
	_, err = ProcessGet(tid)
	check("ProcessGet", err)
	_, err = Descendants(tid, -1)
	check("Descendants", err)
	_, err = TerminateTree(tid, TerminateTreeConfig{GraceTimeoutMS: u64(0)})
	check("TerminateTree", err)
	_, err = KillDescendants(tid, SIGTERM, nil)
	check("KillDescendants", err)
	_, err = WaitPID(tid, time.Second)
	check("WaitPID", err)
}

// ProcessGet's identity is strong: inside a PID namespace, a newcomer that takes a PID within
// the same clock tick as the process that had it is never signalled by a guard built from
// what ProcessGet returned; the weak guard (start ms + exe) is.
func TestProcessGetIdentitySurvivesSameTickReuse(t *testing.T) {
	if os.Getenv("SYSPRIMS_GO_REUSE_SCENARIO") == "1" {
		reuseScenario(t)
		return
	}
	needRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	me, err := ProcessGet(uint32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if me.PidfsInode == nil {
		t.Skip("needs pidfs (Linux 6.9+), the only thing that tells same-tick processes apart")
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", os.Args[0],
		"-test.run=^TestProcessGetIdentitySurvivesSameTickReuse$", "-test.v")
	cmd.Env = append(os.Environ(), "SYSPRIMS_GO_REUSE_SCENARIO=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scenario: %v\n%s", err, out)
	}
	var rounds, strong, weak, weakRounds int
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "GO-REUSE "); i >= 0 {
			fmt.Sscanf(line[i:], "GO-REUSE rounds=%d strong_hits=%d weak_hits=%d weak_rounds=%d", &rounds, &strong, &weak, &weakRounds)
		}
	}
	t.Logf("same-tick rounds: the guard from ProcessGet hit the newcomer %d of %d times, the weak guard %d of %d", strong, rounds, weak, weakRounds)
	if rounds == 0 {
		t.Fatalf("no same-tick reuse happened:\n%s", out)
	}
	if strong != 0 {
		t.Fatalf("a guard from ProcessGet signalled the newcomer:\n%s", out)
	}
	if weak != weakRounds {
		t.Fatalf("the weak guard was expected to be fooled every same-tick round:\n%s", out)
	}
}

// sleeper starts `sleep 1000`.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	c := exec.Command("sleep", "1000")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// endedBy kills c with SIGKILL, reaps it and says which signal ended it: SIGTERM if a
// SIGTERM had been sent before (a fatal signal starts the exit when it is sent).
func endedBy(c *exec.Cmd) syscall.Signal {
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()
	return c.ProcessState.Sys().(syscall.WaitStatus).Signal()
}

func reuseScenario(t *testing.T) {
	if os.Getpid() != 1 {
		t.Fatal("the scenario must run as PID 1 of its own PID namespace")
	}
	rounds, strongHits, weakHits, weakRounds := 0, 0, 0, 0
	for tries := 0; rounds < 20 && tries < 5000; tries++ {
		old := sleeper(t)
		info, err := ProcessGet(uint32(old.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		strong := info.Identity()
		weak := ProcessIdentity{PID: info.PID, StartTimeUnixMS: info.StartTimeUnixMS, ExePath: info.ExePath}
		endedBy(old)
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(int(info.PID)-1)), 0o644); err != nil {
			t.Fatal(err)
		}
		newcomer := sleeper(t)
		if uint32(newcomer.Process.Pid) != info.PID {
			endedBy(newcomer)
			t.Fatalf("ns_last_pid did not force reuse: %d, want %d", newcomer.Process.Pid, info.PID)
		}
		now, err := ProcessGet(info.PID)
		if err != nil {
			endedBy(newcomer)
			t.Fatal(err)
		}
		if *now.StartTimeBootTicks != *info.StartTimeBootTicks {
			endedBy(newcomer)
			continue
		}
		rounds++
		if rounds%2 == 0 {
			// The weak guard, on every other round (its signal would mask the other's).
			weakRounds++
			if r, _ := SignalIf(weak, SIGTERM); r != nil && r.Status == "signalled" && endedBy(newcomer) == syscall.SIGTERM {
				weakHits++
			}
			endedBy(newcomer)
			continue
		}
		res, err := SignalIf(strong, SIGTERM)
		if err != nil || res.Status != IdentityReused {
			endedBy(newcomer)
			t.Fatalf("SignalIf(strong): %+v, %v", res, err)
		}
		check, err := VerifyIdentity(strong)
		if err != nil || check.Same() {
			endedBy(newcomer)
			t.Fatalf("VerifyIdentity(strong): %+v, %v", check, err)
		}
		_, err = TerminateTree(info.PID, TerminateTreeConfig{GraceTimeoutMS: u64(0), RequireIdentity: &strong})
		if err == nil {
			endedBy(newcomer)
			t.Fatal("TerminateTree with RequireIdentity accepted the newcomer")
		}
		if endedBy(newcomer) == syscall.SIGTERM {
			strongHits++
		}
	}
	fmt.Printf("GO-REUSE rounds=%d strong_hits=%d weak_hits=%d weak_rounds=%d\n", rounds-weakRounds, strongHits, weakHits, weakRounds)
}
