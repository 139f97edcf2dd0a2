// Package bench compares sysprims with its peers: ProcessGet with gopsutil, and the spawn and
// terminate round trip with the legacy adapter (os/exec, Setpgid, kill(-pgid)). It is its own
// module so that the sysprims module does not depend on gopsutil.
//
//	cargo build --release -p sysprims-ffi
//	cd bindings/go/bench && go test -bench . -benchtime 3s
//
// The Ratio benchmarks run both sides interleaved, call for call, and report sysprims' time
// as a multiple of the peer's ("x-peer"), so that a busy machine slows both alike. They report;
// they never fail.
package bench

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
	"sysprims.dev/sysprims"
	"sysprims.dev/sysprims/adapter"
)

// gopsutilIdentity is what gopsutil needs for the fields ProcessGet's identity has: a
// process, its start time, executable and command line.
func gopsutilIdentity(b *testing.B, pid int32) {
	p, err := process.NewProcess(pid)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.CreateTime(); err != nil {
		b.Fatal(err)
	}
	if _, err := p.Exe(); err != nil {
		b.Fatal(err)
	}
	if _, err := p.Cmdline(); err != nil {
		b.Fatal(err)
	}
}

func sysprimsGet(b *testing.B, pid uint32) {
	if _, err := sysprims.ProcessGet(pid); err != nil {
		b.Fatal(err)
	}
}

// targets are the PIDs measured: this (multi-threaded) process, and a single-threaded child,
// the usual target of a supervisor.
func targets(b *testing.B) map[string]int {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return map[string]int{"self": os.Getpid(), "child": cmd.Process.Pid}
}

func BenchmarkProcessGet(b *testing.B) {
	for name, pid := range targets(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sysprimsGet(b, uint32(pid))
			}
		})
	}
}

func BenchmarkGopsutilIdentity(b *testing.B) {
	for name, pid := range targets(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				gopsutilIdentity(b, int32(pid))
			}
		})
	}
}

// BenchmarkRatioProcessGetVsGopsutil: ProcessGet against gopsutil's NewProcess + CreateTime
// + Exe + Cmdline on the same PID, interleaved. Target: at most 0.5x.
func BenchmarkRatioProcessGetVsGopsutil(b *testing.B) {
	for name, pid := range targets(b) {
		b.Run(name, func(b *testing.B) {
			var ours, theirs time.Duration
			for b.Loop() {
				t0 := time.Now()
				sysprimsGet(b, uint32(pid))
				t1 := time.Now()
				gopsutilIdentity(b, int32(pid))
				t2 := time.Now()
				ours += t1.Sub(t0)
				theirs += t2.Sub(t1)
			}
			report(b, ours, theirs, "gopsutil")
		})
	}
}

// roundTrip spawns `sleep 1000` in a group of its own through a, ends it with TerminateTree
// and collects its status (the adapters reap their own jobs).
func roundTrip(b *testing.B, a adapter.ProcessAdapter) {
	res, err := a.SpawnInGroup(sysprims.SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	if err != nil {
		b.Fatal(err)
	}
	done, err := a.TerminateTree(res.PID, sysprims.TerminateTreeConfig{})
	if err != nil || !done.Exited || done.Escalated {
		b.Fatalf("%+v %v", done, err)
	}
	if _, err := a.(adapter.Waiter).Wait(res.PID); err != nil {
		b.Fatal(err)
	}
}

// rawRoundTrip is the same with the package functions: SpawnInGroup, TerminateTree, WaitPID.
func rawRoundTrip(b *testing.B, containment sysprims.Containment) {
	res, err := sysprims.SpawnInGroup(sysprims.SpawnInGroupConfig{Argv: []string{"sleep", "1000"}, Containment: containment})
	if err != nil {
		b.Fatal(err)
	}
	done, err := sysprims.TerminateTree(res.PID, sysprims.TerminateTreeConfig{})
	if err != nil || !done.Exited || done.Escalated {
		b.Fatalf("%+v %v", done, err)
	}
	if _, err := sysprims.WaitPID(res.PID, sysprims.NoTimeout); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	b.Run("sysprims-cgroup", func(b *testing.B) {
		for b.Loop() {
			rawRoundTrip(b, sysprims.ContainmentAuto)
		}
	})
	b.Run("sysprims-process-group", func(b *testing.B) {
		for b.Loop() {
			rawRoundTrip(b, sysprims.ContainmentProcessGroup)
		}
	})
	b.Run("sysprims-adapter", func(b *testing.B) {
		a := &adapter.SysprimsAdapter{}
		for b.Loop() {
			roundTrip(b, a)
		}
	})
	b.Run("legacy-adapter", func(b *testing.B) {
		a := &adapter.LegacyAdapter{}
		for b.Loop() {
			roundTrip(b, a)
		}
	})
}

// BenchmarkRatioRoundTripVsLegacy: the SysprimsAdapter's spawn + terminate + wait against the
// LegacyAdapter's, interleaved.
func BenchmarkRatioRoundTripVsLegacy(b *testing.B) {
	s, l := &adapter.SysprimsAdapter{}, &adapter.LegacyAdapter{}
	var ours, theirs time.Duration
	for b.Loop() {
		t0 := time.Now()
		roundTrip(b, s)
		t1 := time.Now()
		roundTrip(b, l)
		t2 := time.Now()
		ours += t1.Sub(t0)
		theirs += t2.Sub(t1)
	}
	report(b, ours, theirs, "legacy")
}

func report(b *testing.B, ours, theirs time.Duration, peer string) {
	n := float64(b.N)
	b.ReportMetric(float64(ours.Nanoseconds())/n, "sysprims-ns/op")
	b.ReportMetric(float64(theirs.Nanoseconds())/n, peer+"-ns/op")
	b.ReportMetric(float64(ours)/float64(theirs), "x-"+peer)
	b.ReportMetric(0, "ns/op") // the pair's total is not a meaningful figure
}
