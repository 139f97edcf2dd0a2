//go:build darwin

package sysprims

// Signal numbers used by this package's defaults and examples: macOS's own, equal to
// syscall.SIG* there (SIGCONT and SIGSTOP differ from Linux's 18 and 19). Untyped, so they
// compare with int and int32 fields alike.
const (
	SIGHUP  = 1
	SIGINT  = 2
	SIGKILL = 9
	SIGTERM = 15
	SIGCONT = 19
	SIGSTOP = 17
)
