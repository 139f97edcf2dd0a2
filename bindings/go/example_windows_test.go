package sysprims_test

import (
	"errors"
	"os"
)

// The guide's snippets compile for Windows (go vet with GOOS=windows, in scripts/test); the
// examples around them run on Unix, where their worker is a shell script.

// killJobGroup is the supervisor's old hard stop: Windows has no process groups to signal,
// so it terminates the job's first process.
func killJobGroup(pid uint32) error {
	p, err := os.FindProcess(int(pid))
	if err != nil {
		return err
	}
	defer p.Release()
	return p.Kill()
}

// makeFIFO: Windows has no FIFOs in the file system.
func makeFIFO(string) error { return errors.New("no FIFOs on Windows") }
