//go:build linux

package sysprims

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
)

// Signal numbers cross the binding as the platform's own: syscall.SIG* goes in, and the
// numbers that come back compare equal to syscall.SIG*. On Linux that is sysprims's own
// numbering; on macOS (SIGUSR2 is 31 there, 12 here) the library converts both ways.
func TestSignalNumbersAreThePlatforms(t *testing.T) {
	// In: Kill with syscall.SIGUSR2 delivers SIGUSR2, as Go itself decodes the status.
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if err := Kill(uint32(cmd.Process.Pid), int(syscall.SIGUSR2)); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) {
		t.Fatalf("wait: %v", err)
	}
	if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGUSR2 {
		t.Fatalf("ended by %v, want SIGUSR2", ws)
	}

	// Out: the signal WaitPID and KillMany report is syscall's number for it.
	res, _ := spawn(t, SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	report, err := KillMany([]uint32{res.PID}, int(syscall.SIGUSR2))
	if err != nil || report.Signal != int(syscall.SIGUSR2) || report.SignalName != "SIGUSR2" {
		t.Fatalf("KillMany: %+v %v", report, err)
	}
	w, err := WaitPID(res.PID, NoTimeout)
	if err != nil || w.Signal == nil || int(*w.Signal) != int(syscall.SIGUSR2) {
		t.Fatalf("WaitPID: %+v %v", w, err)
	}
}
