package adapter

import "syscall"

// setPdeathsig asks the kernel to SIGKILL the child when the thread that spawned it dies.
func setPdeathsig(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
