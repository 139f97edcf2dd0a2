//go:build !linux

package adapter

import (
	"fmt"
	"runtime"
	"syscall"
)

// killOnParentDeath: only Linux has a parent-death signal (PR_SET_PDEATHSIG); elsewhere the
// legacy adapter cannot promise it, so it refuses rather than start a child that outlives us.
func killOnParentDeath(*syscall.SysProcAttr) error {
	return fmt.Errorf("KillOnParentDeath needs Linux's parent-death signal; %s has none", runtime.GOOS)
}
