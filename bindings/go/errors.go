package sysprims

import (
	"errors"
	"fmt"
	"math"
)

// ErrorCode is one of the library's stable numeric error codes, shared by Rust, the C ABI
// and Go. The numbers never change once published.
type ErrorCode int32

// The error codes. 7 is reserved (it was GroupCreationFailed in the public reference
// implementation, whose numbering sysprims keeps).
const (
	CodeInvalidArgument  ErrorCode = 1  // A value passed in cannot be used: a bug in the caller.
	CodeSpawnFailed      ErrorCode = 2  // A child process could not be started.
	CodeTimeout          ErrorCode = 3  // An operation did not finish within its deadline.
	CodePermissionDenied ErrorCode = 4  // The caller may not inspect or signal the target.
	CodeNotFound         ErrorCode = 5  // The process (or path) does not exist.
	CodeNotSupported     ErrorCode = 6  // The platform or kernel lacks what the operation needs.
	CodeSystem           ErrorCode = 8  // An operating-system call failed for another reason.
	CodeInternal         ErrorCode = 99 // A bug in sysprims itself.
)

// Sentinel errors, one per code, for errors.Is. Every error this package returns for a
// library failure is an [*Error] whose Is method matches the sentinel of its code:
//
//	if errors.Is(err, sysprims.ErrNotFound) { /* the job is already gone */ }
var (
	ErrInvalidArgument  = errors.New("sysprims: invalid argument")
	ErrSpawnFailed      = errors.New("sysprims: spawn failed")
	ErrTimeout          = errors.New("sysprims: timeout")
	ErrPermissionDenied = errors.New("sysprims: permission denied")
	ErrNotFound         = errors.New("sysprims: not found")
	ErrNotSupported     = errors.New("sysprims: not supported")
	ErrSystem           = errors.New("sysprims: system error")
	ErrInternal         = errors.New("sysprims: internal error")
)

// Sentinel returns the sentinel error for the code (ErrNotFound for CodeNotFound), or nil
// for a code this version does not know.
func (c ErrorCode) Sentinel() error {
	switch c {
	case CodeInvalidArgument:
		return ErrInvalidArgument
	case CodeSpawnFailed:
		return ErrSpawnFailed
	case CodeTimeout:
		return ErrTimeout
	case CodePermissionDenied:
		return ErrPermissionDenied
	case CodeNotFound:
		return ErrNotFound
	case CodeNotSupported:
		return ErrNotSupported
	case CodeSystem:
		return ErrSystem
	case CodeInternal:
		return ErrInternal
	}
	return nil
}

// String returns the code's name as the Rust library writes it ("NotFound").
func (c ErrorCode) String() string {
	switch c {
	case CodeInvalidArgument:
		return "InvalidArgument"
	case CodeSpawnFailed:
		return "SpawnFailed"
	case CodeTimeout:
		return "Timeout"
	case CodePermissionDenied:
		return "PermissionDenied"
	case CodeNotFound:
		return "NotFound"
	case CodeNotSupported:
		return "NotSupported"
	case CodeSystem:
		return "System"
	case CodeInternal:
		return "Internal"
	}
	return fmt.Sprintf("ErrorCode(%d)", int32(c))
}

// codeFromName maps the snake_case names JSON documents use ("not_found") to codes.
func codeFromName(name string) ErrorCode {
	switch name {
	case "invalid_argument":
		return CodeInvalidArgument
	case "spawn_failed":
		return CodeSpawnFailed
	case "timeout":
		return CodeTimeout
	case "permission_denied":
		return CodePermissionDenied
	case "not_found":
		return CodeNotFound
	case "not_supported":
		return CodeNotSupported
	case "system":
		return CodeSystem
	}
	return CodeInternal
}

// Error is the error every sysprims call returns when the library (or this package's own
// validation) refuses or fails. Use errors.As to read the code and message, or errors.Is
// with a sentinel (ErrNotFound, ...) to test the code:
//
//	var e *sysprims.Error
//	if errors.As(err, &e) { log.Printf("code %d: %s", e.Code, e.Message) }
type Error struct {
	// Code is the stable error code.
	Code ErrorCode
	// Message is the library's message, naming the operation and the PID or path.
	Message string
	// Op is the Go function that failed ("ProcessGet").
	Op string
}

// Error formats the error as "sysprims: Op: Message".
func (e *Error) Error() string {
	if e.Op == "" {
		return "sysprims: " + e.Message
	}
	return "sysprims: " + e.Op + ": " + e.Message
}

// Is reports whether target is the sentinel of e's code, so that errors.Is(err, ErrNotFound)
// holds for every not-found *Error.
func (e *Error) Is(target error) bool {
	s := e.Code.Sentinel()
	return s != nil && s == target
}

// invalid is an InvalidArgument error raised in Go, before any call into the library.
func invalid(op, format string, args ...any) error {
	return &Error{Code: CodeInvalidArgument, Op: op, Message: fmt.Sprintf(format, args...)}
}

// checkPID rejects what the library rejects, without a cgo call: PID 0 and anything above
// math.MaxInt32, which kill(2) would read as a process group or as "every process".
func checkPID(op, what string, pid uint32) error {
	if pid == 0 {
		return invalid(op, "invalid %s 0: it names no process (kill(2) would read it as the caller's process group)", what)
	}
	if pid > math.MaxInt32 {
		return invalid(op, "invalid %s %d: above %d (i32::MAX), kill(2) would read it as a process group or as every process", what, pid, math.MaxInt32)
	}
	return nil
}
