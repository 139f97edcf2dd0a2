package adapter

import (
	"fmt"
	"os"
	"syscall"
)

// Windows has no process groups to signal and no parent-death signal: the legacy adapter
// there starts the job in a new console process group (which only scopes console control
// events) and ends its first process alone with TerminateProcess, whatever the signal. Its
// results say so in a warning; SysprimsAdapter's Job Objects are what end a whole tree.

const (
	windowsSynchronize           = 0x00100000
	windowsQueryLimitedInfo      = 0x1000
	windowsWaitTimeout           = 0x102
	windowsCreateNewProcessGroup = 0x00000200
)

func legacyProcAttr(pdeath bool) (*syscall.SysProcAttr, error) {
	attr := &syscall.SysProcAttr{CreationFlags: windowsCreateNewProcessGroup}
	if pdeath {
		if err := killOnParentDeath(attr); err != nil {
			return nil, err
		}
	}
	return attr, nil
}

// legacyPGID is nil: Windows has no process groups (as SpawnInGroupResult.PGID says).
func legacyPGID(uint32) *uint32 { return nil }

func legacyTarget(_ string, pid uint32, _ bool) (int, string, error) {
	return int(pid), fmt.Sprintf("Windows: process %d alone is terminated (TerminateProcess), not its descendants", pid), nil
}

// legacyKill terminates target (TerminateProcess): Windows has no signals to send.
func legacyKill(target int, _ syscall.Signal) error {
	p, err := os.FindProcess(target)
	if err != nil {
		return err
	}
	defer p.Release()
	return p.Kill()
}

// legacyGone says whether pid has exited: it cannot be opened, or its handle is signalled.
func legacyGone(pid uint32) bool {
	h, err := syscall.OpenProcess(windowsSynchronize|windowsQueryLimitedInfo, false, pid)
	if err != nil {
		return true
	}
	defer syscall.CloseHandle(h)
	ev, err := syscall.WaitForSingleObject(h, 0)
	return err == nil && ev != windowsWaitTimeout
}
