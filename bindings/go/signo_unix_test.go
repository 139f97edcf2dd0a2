//go:build unix

package sysprims

import (
	"syscall"
	"testing"
)

// The package's signal constants are the platform's (this test compiles for darwin too).
func TestSignalConstantsAreSyscalls(t *testing.T) {
	for _, c := range []struct {
		name string
		ours int
		sys  syscall.Signal
	}{
		{"HUP", SIGHUP, syscall.SIGHUP}, {"INT", SIGINT, syscall.SIGINT},
		{"KILL", SIGKILL, syscall.SIGKILL}, {"TERM", SIGTERM, syscall.SIGTERM},
		{"CONT", SIGCONT, syscall.SIGCONT}, {"STOP", SIGSTOP, syscall.SIGSTOP},
	} {
		if c.ours != int(c.sys) {
			t.Errorf("SIG%s is %d, syscall says %d", c.name, c.ours, int(c.sys))
		}
	}
}
