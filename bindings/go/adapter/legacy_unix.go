//go:build unix

package adapter

import (
	"errors"
	"fmt"
	"syscall"

	"sysprims.dev/sysprims"
)

// legacyProcAttr puts the child in a process group of its own (Setpgid) and, when asked,
// has it SIGKILLed when the spawner dies (Pdeathsig: Linux only, refused elsewhere).
func legacyProcAttr(pdeath bool) (*syscall.SysProcAttr, error) {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if pdeath {
		if err := killOnParentDeath(attr); err != nil {
			return nil, err
		}
	}
	return attr, nil
}

// legacyPGID is the job's process group: its first process leads one (Setpgid).
func legacyPGID(pid uint32) *uint32 { return &pid }

// legacyTarget is what kill(2) is given for pid: the group it leads (-pgid), or pid alone
// with a warning when it leads none. The caller's own group is refused unless allowProtected.
func legacyTarget(op string, pid uint32, allowProtected bool) (int, string, error) {
	pgid, err := syscall.Getpgid(int(pid))
	switch {
	case err == nil && pgid == int(pid):
		own, _ := syscall.Getpgid(0)
		if pgid == own && !allowProtected {
			return 0, "", &sysprims.Error{Code: sysprims.CodeInvalidArgument, Op: op, Message: "refusing to signal the caller's own process group"}
		}
		return -pgid, "", nil
	case err == nil:
		return int(pid), fmt.Sprintf("process %d leads no process group: only it was signalled, not its descendants", pid), nil
	default:
		return int(pid), "", nil
	}
}

// legacyKill sends sig to target (a PID, or -pgid for a group).
func legacyKill(target int, sig syscall.Signal) error { return syscall.Kill(target, sig) }

// legacyGone says whether pid no longer exists (kill(pid, 0) is ESRCH).
func legacyGone(pid uint32) bool { return errors.Is(syscall.Kill(int(pid), 0), syscall.ESRCH) }
