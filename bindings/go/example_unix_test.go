//go:build unix

package sysprims_test

import "syscall"

// killJobGroup is the supervisor's old hard stop: SIGKILL to the job's process group.
func killJobGroup(pid uint32) error { return syscall.Kill(-int(pid), syscall.SIGKILL) }

// makeFIFO makes the pipe the example's worker reports through.
func makeFIFO(path string) error { return syscall.Mkfifo(path, 0o600) }
