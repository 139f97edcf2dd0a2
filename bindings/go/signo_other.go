//go:build !darwin

package sysprims

// Signal numbers used by this package's defaults and examples: the platform's own, equal to
// syscall.SIG* (Linux's numbering; sysprims's too, so elsewhere than macOS they are also the
// library's). Untyped, so they compare with int and int32 fields alike.
const (
	SIGHUP  = 1
	SIGINT  = 2
	SIGKILL = 9
	SIGTERM = 15
	SIGCONT = 18
	SIGSTOP = 19
)
