package adapter

import "syscall"

// killOnParentDeath has the kernel SIGKILL the child when this thread's process exits
// (PR_SET_PDEATHSIG through SysProcAttr.Pdeathsig).
func killOnParentDeath(attr *syscall.SysProcAttr) error {
	attr.Pdeathsig = syscall.SIGKILL
	return nil
}
