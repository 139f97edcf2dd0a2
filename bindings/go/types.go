package sysprims

import (
	"encoding/json"
	"fmt"
)

// Signal numbers used by this package's defaults and examples (SIGHUP, SIGINT, SIGKILL,
// SIGTERM, SIGCONT, SIGSTOP) are in signo_darwin.go and signo_other.go: untyped constants
// equal to the platform's syscall.SIG* (SIGSTOP is 19 on Linux, 17 on macOS). Every signal
// number this package takes or returns is the platform's own (int(syscall.SIGUSR1) is 10 on
// Linux, 30 on macOS); the library converts.

// Reliability words of TreeKillReliability fields.
const (
	// ReliabilityGuaranteed: a kernel-enforced container (a cgroup v2) holds the whole tree.
	ReliabilityGuaranteed = "guaranteed"
	// ReliabilityBestEffort: a process group and a walk of descendants; processes that left
	// the tree (setsid, double forks) may be out of reach. The warnings say why.
	ReliabilityBestEffort = "best_effort"
)

// ErrorReport is an error as a JSON document carries it (in KillReport targets).
type ErrorReport struct {
	// Code is the error's code name ("not_found", "permission_denied", ...).
	Code string `json:"code"`
	// Message says what went wrong, naming the operation and the PID.
	Message string `json:"message"`
}

// Err returns the report as an *Error, so errors.Is works on it.
func (r *ErrorReport) Err() error {
	if r == nil {
		return nil
	}
	return &Error{Code: codeFromName(r.Code), Message: r.Message}
}

// Outcomes of one KillReport target.
const (
	OutcomeSignalled   = "signalled"    // the signal was sent
	OutcomeWouldSignal = "would_signal" // preview: it would be sent
	OutcomeRefused     = "refused"      // protected target (PID 1, the caller, its group) or invalid
	OutcomeReused      = "reused"       // the PID names another process now: not sent
	OutcomeGone        = "gone"         // no process has the PID: not sent
	OutcomeFailed      = "failed"       // the system refused (permission) or failed
)

// KillReport says what sending one signal to several processes did (KillMany,
// KillDescendants), per target.
type KillReport struct {
	// SchemaID is always "https://sysprims.dev/schemas/kill-report/v1.json".
	SchemaID string `json:"schema_id"`
	// Signal is the signal's number.
	Signal int `json:"signal"`
	// SignalName is the signal's name ("SIGTERM").
	SignalName string `json:"signal_name"`
	// Preview is true when nothing was sent (a dry run).
	Preview bool `json:"preview"`
	// Targets has one entry per target, in the order given.
	Targets []TargetResult `json:"targets"`
}

// AllSignalled reports whether there was at least one target and every one was signalled
// (or, in a preview, would be).
func (r *KillReport) AllSignalled() bool {
	if r == nil || len(r.Targets) == 0 {
		return false
	}
	for _, t := range r.Targets {
		if t.Outcome != OutcomeSignalled && t.Outcome != OutcomeWouldSignal {
			return false
		}
	}
	return true
}

// TargetResult is what happened to one target of a KillReport.
type TargetResult struct {
	// PID is the target.
	PID uint32 `json:"pid"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// Name is the process's name, when the target was chosen by a filter.
	Name *string `json:"name"`
	// Error says why it was not signalled (refused, gone, failed).
	Error *ErrorReport `json:"error"`
	// ReuseReason is the evidence, for OutcomeReused.
	ReuseReason *ReuseReason `json:"reuse_reason"`
	// Warnings are anything the caller should know.
	Warnings []string `json:"warnings"`
}

// GuardedSignalResult is what SignalIf did.
type GuardedSignalResult struct {
	// Status is "signalled", IdentityReused or IdentityGone.
	Status string `json:"status"`
	// Warnings, when signalled: set when the kernel has no pidfds and kill(2) was used
	// after the identity check.
	Warnings []string `json:"warnings"`
	// Reason is the evidence, when Status is IdentityReused: nothing was sent.
	Reason *ReuseReason `json:"reason,omitempty"`
}

// Signalled reports whether the signal reached the identified process.
func (g *GuardedSignalResult) Signalled() bool { return g != nil && g.Status == OutcomeSignalled }

// Containment says how SpawnInGroup contains a job.
type Containment string

// Containment choices.
const (
	// ContainmentAuto: a cgroup where one can be made, else a process group with a
	// warning. The default.
	ContainmentAuto Containment = "auto"
	// ContainmentCgroup: a cgroup, or fail with ErrNotSupported/ErrPermissionDenied.
	ContainmentCgroup Containment = "cgroup"
	// ContainmentProcessGroup: a process group only, even where a cgroup could be made
	// (for testing degraded reliability).
	ContainmentProcessGroup Containment = "process_group"
)

// What holds a job (SpawnInGroupResult.Containment).
const (
	ContainmentKindCgroupV2     = "cgroup_v2"
	ContainmentKindProcessGroup = "process_group"
)

// Stdio says where one of a child's standard streams goes. The zero value is StdioInherit.
type Stdio struct {
	kind   string // "", "inherit", "null", "file"
	path   string
	append bool
}

var (
	// StdioInherit: the caller's own stream (the default).
	StdioInherit = Stdio{kind: "inherit"}
	// StdioNull: /dev/null.
	StdioNull = Stdio{kind: "null"}
)

// StdioFile sends a stream to (or, for stdin, reads it from) a file, created if missing. A
// relative path is relative to the caller's working directory, not the child's. With
// appendTo the file is appended to instead of truncated.
func StdioFile(path string, appendTo bool) Stdio {
	return Stdio{kind: "file", path: path, append: appendTo}
}

// Kind returns "inherit", "null" or "file".
func (s Stdio) Kind() string {
	if s.kind == "" {
		return "inherit"
	}
	return s.kind
}

// Path returns the file of a StdioFile, or "".
func (s Stdio) Path() string { return s.path }

// Append reports whether a StdioFile appends.
func (s Stdio) Append() bool { return s.append }

// IsZero reports whether s is the default (inherit), for omitzero.
func (s Stdio) IsZero() bool { return s.kind == "" || s.kind == "inherit" }

// String describes s ("inherit", "null", "file:/tmp/out").
func (s Stdio) String() string {
	switch s.kind {
	case "", "inherit":
		return "inherit"
	case "file":
		return "file:" + s.path
	}
	return s.kind
}

// MarshalJSON encodes s as the library reads it: "inherit", "null" or
// {"file": {"path": ..., "append": ...}}.
func (s Stdio) MarshalJSON() ([]byte, error) {
	switch s.kind {
	case "", "inherit":
		return []byte(`"inherit"`), nil
	case "null":
		return []byte(`"null"`), nil
	case "file":
		type file struct {
			Path   string `json:"path"`
			Append bool   `json:"append"`
		}
		return json.Marshal(map[string]file{"file": {s.path, s.append}})
	}
	return nil, fmt.Errorf("unknown stdio kind %q", s.kind)
}

// SpawnInGroupConfig says how SpawnInGroup starts a job. Only Argv is required.
type SpawnInGroupConfig struct {
	// Argv is the program and its arguments. A program without a "/" is looked up in the
	// PATH the child will have.
	Argv []string `json:"argv"`
	// Cwd is the child's working directory; empty for the caller's.
	Cwd string `json:"cwd,omitempty"`
	// Env holds variables to set over the caller's environment (or over an empty one with
	// EnvClear).
	Env map[string]string `json:"env,omitempty"`
	// EnvClear starts from an empty environment instead of the caller's.
	EnvClear bool `json:"env_clear,omitempty"`
	// Stdin is where standard input comes from (default: inherited).
	Stdin Stdio `json:"stdin,omitzero"`
	// Stdout is where standard output goes (default: inherited).
	Stdout Stdio `json:"stdout,omitzero"`
	// Stderr is where standard error goes (default: inherited).
	Stderr Stdio `json:"stderr,omitzero"`
	// Containment says how to contain the job (empty: ContainmentAuto).
	Containment Containment `json:"containment,omitempty"`
	// CgroupParent is the cgroup v2 directory under which the job's cgroup is made (an
	// absolute path in the cgroup2 mount); empty for the caller's own cgroup.
	CgroupParent string `json:"cgroup_parent,omitempty"`
	// KillOnParentDeath kills the child (SIGKILL) when the OS thread that spawned it exits
	// (PR_SET_PDEATHSIG). The Go runtime keeps its threads for the life of the program
	// unless a goroutine exits while locked to one (runtime.LockOSThread), so in practice this
	// means "when this program exits"; do not set it from a goroutine that locks its thread
	// and then returns.
	KillOnParentDeath bool `json:"kill_on_parent_death,omitempty"`
	// Limits are enforced by the kernel on the whole job through its cgroup (zero: none).
	Limits JobLimits `json:"limits,omitzero"`
}

// JobLimits are limits on a job's whole tree, written to its cgroup before the child runs
// (the library's JobLimits). Each is optional (nil: no limit). A limit needs the job's
// cgroup to have the controller (memory, pids, cpu): with ContainmentAuto a limit that
// cannot be applied is named in the result's Warnings and the job runs without it; with
// ContainmentCgroup the spawn fails with ErrNotSupported naming the controller; with
// ContainmentProcessGroup any limit is ErrInvalidArgument. Out-of-range values (0, above the
// machine) are ErrInvalidArgument naming the value.
type JobLimits struct {
	// MemoryMaxBytes is the most memory the whole job may use (memory.max); past it the
	// kernel's OOM killer ends a process of the job (EndedByOOMKill).
	MemoryMaxBytes *uint64 `json:"memory_max_bytes,omitempty"`
	// MemorySwapMaxBytes is the most swap the whole job may use (memory.swap.max); 0 is no
	// swap.
	MemorySwapMaxBytes *uint64 `json:"memory_swap_max_bytes,omitempty"`
	// PidsMax is the most processes and threads the job may have at once (pids.max).
	PidsMax *uint64 `json:"pids_max,omitempty"`
	// CPUMax is the CPU the whole job may use, in CPUs: 0.5 is half of one, 2 two whole
	// CPUs (cpu.max).
	CPUMax *float64 `json:"cpu_max,omitempty"`
}

// JobUsage is what a job's whole tree used, read from its cgroup when it ended (the
// library's JobUsage). A nil field is one the kernel does not report here (controller not
// enabled for the job, or a kernel too old: memory.peak needs 5.19).
type JobUsage struct {
	// CPUUserUS is CPU time in user mode, microseconds (cpu.stat user_usec).
	CPUUserUS *uint64 `json:"cpu_user_us"`
	// CPUSystemUS is CPU time in the kernel, microseconds (cpu.stat system_usec).
	CPUSystemUS *uint64 `json:"cpu_system_us"`
	// MemoryPeakBytes is the most memory the tree used at once (memory.peak): the tree's
	// total, not its largest process.
	MemoryPeakBytes *uint64 `json:"memory_peak_bytes"`
	// OOMEvents counts the times the job reached its memory limit and the kernel had to act
	// (memory.events oom).
	OOMEvents *uint64 `json:"oom_events"`
	// OOMKills counts processes of the job killed by the kernel's OOM killer (memory.events
	// oom_kill).
	OOMKills *uint64 `json:"oom_kills"`
	// PidsPeak is the most processes the job had at once (pids.peak).
	PidsPeak *uint64 `json:"pids_peak"`
}

// How a process ended (WaitPIDResult.EndedBy, TimeoutResult.EndedBy).
const (
	// EndedByExit: it exited, with an exit code.
	EndedByExit = "exit"
	// EndedBySignal: a signal killed it.
	EndedBySignal = "signal"
	// EndedByOOMKill: the kernel's OOM killer (SIGKILL with an OOM kill counted in the job's
	// cgroup), not a person or a supervisor.
	EndedByOOMKill = "oom_kill"
)

// SpawnInGroupResult is a started job.
type SpawnInGroupResult struct {
	// SchemaID is always "https://sysprims.dev/schemas/spawn-in-group-result/v1.json".
	SchemaID string `json:"schema_id"`
	// PID is the child's PID. The child is the caller's child: reap it with WaitPID.
	PID uint32 `json:"pid"`
	// PGID is the child's process group, which it leads (equal to PID); nil where the
	// platform has no process groups.
	PGID *uint32 `json:"pgid"`
	// Identity is who the child is, for VerifyIdentity and SignalIf later.
	Identity ProcessIdentity `json:"identity"`
	// TreeKillReliability is ReliabilityGuaranteed when a cgroup holds the job,
	// ReliabilityBestEffort otherwise (Warnings say why).
	TreeKillReliability string `json:"tree_kill_reliability"`
	// Containment is what holds the job: ContainmentKindCgroupV2 or
	// ContainmentKindProcessGroup.
	Containment string `json:"containment"`
	// Cgroup is the job's cgroup, a path in the cgroup2 mount, when it has one.
	Cgroup *string `json:"cgroup"`
	// Warnings say why reliability is degraded, and anything else worth logging.
	Warnings []string `json:"warnings"`
}

// TerminateTreeConfig says how TerminateTree ends a tree. The zero value is the default:
// SIGTERM, 5 s grace, SIGKILL, 2 s.
type TerminateTreeConfig struct {
	// Signal is the graceful signal; 0 means SIGTERM.
	Signal int `json:"signal,omitempty"`
	// GraceTimeoutMS is how long to wait after Signal before escalating; nil means 5000.
	GraceTimeoutMS *uint64 `json:"grace_timeout_ms,omitempty"`
	// KillSignal is the escalation signal; 0 means SIGKILL.
	KillSignal int `json:"kill_signal,omitempty"`
	// KillTimeoutMS is how long to wait after KillSignal; nil means 2000.
	KillTimeoutMS *uint64 `json:"kill_timeout_ms,omitempty"`
	// RequireStartTimeMS: act only if the process at the PID started at this time (Unix
	// ms, as ProcessInfo.StartTimeUnixMS). Otherwise ErrNotFound and nothing is signalled.
	RequireStartTimeMS *uint64 `json:"require_start_time_ms,omitempty"`
	// RequireExePath: act only if the process at the PID runs this executable.
	RequireExePath *string `json:"require_exe_path,omitempty"`
	// RequireIdentity: act only if the process at the PID is the one this identity names
	// (as ProcessInfo.Identity or SpawnInGroupResult.Identity gives it), checked through a
	// pidfd; with a pidfs inode even same-tick PID reuse is told apart. Otherwise ErrNotFound
	// and nothing is signalled. Its PID must be the PID terminated.
	RequireIdentity *ProcessIdentity `json:"require_identity,omitempty"`
	// AllowProtected allows PID 1 and the caller itself as the root.
	AllowProtected bool `json:"allow_protected,omitempty"`
}

// TerminateTreeResult is what TerminateTree did.
type TerminateTreeResult struct {
	// SchemaID is always "https://sysprims.dev/schemas/terminate-tree-result/v1.json".
	SchemaID string `json:"schema_id"`
	// PID is the root PID.
	PID uint32 `json:"pid"`
	// SignalSent is the graceful signal sent.
	SignalSent int `json:"signal_sent"`
	// KillSignal is the escalation signal (sent only if Escalated).
	KillSignal int `json:"kill_signal"`
	// Escalated: something survived the grace period, so KillSignal was sent.
	Escalated bool `json:"escalated"`
	// Exited: every process of the tree has ended.
	Exited bool `json:"exited"`
	// TimedOut: something survived KillSignal too (see Survivors).
	TimedOut bool `json:"timed_out"`
	// Survivors are the PIDs of the tree still alive at return; empty when Exited.
	Survivors []uint32 `json:"survivors"`
	// Signalled is how many processes were signalled.
	Signalled uint32 `json:"signalled"`
	// TreeKillReliability says whether the whole tree was in reach.
	TreeKillReliability string `json:"tree_kill_reliability"`
	// Warnings say what could not be reached or done.
	Warnings []string `json:"warnings"`
	// ElapsedMS is the wall time of the call.
	ElapsedMS uint64 `json:"elapsed_ms"`
	// Usage is what the job's whole tree used, when the tree was a job with a cgroup of its
	// own (read before the cgroup was removed); Usage.OOMKills says whether the kernel's OOM
	// killer struck. nil for a tree without one.
	Usage *JobUsage `json:"usage"`
}

// KillDescendantsOptions says which descendants KillDescendants signals.
type KillDescendantsOptions struct {
	// Filter selects descendants (as ProcessList does).
	Filter ProcessFilter `json:"filter"`
	// CPUSampleMS measures CPU over this interval for Filter.CPUAbove: 1 to 3,600,000 ms
	// (one hour); a larger value is an InvalidArgument error, not an endless wait.
	CPUSampleMS *uint64 `json:"cpu_sample_ms,omitempty"`
	// DryRun reports what would be signalled and sends nothing.
	DryRun bool `json:"dry_run,omitempty"`
	// AllowProtected allows the caller itself among the targets.
	AllowProtected bool `json:"allow_protected,omitempty"`
}

// WaitPIDResult says how WaitPID ended.
type WaitPIDResult struct {
	// SchemaID is always "https://sysprims.dev/schemas/wait-pid-result/v1.json".
	SchemaID string `json:"schema_id"`
	// PID is the PID waited for.
	PID uint32 `json:"pid"`
	// Exited: the process has ended (a zombie counts).
	Exited bool `json:"exited"`
	// TimedOut: the timeout (or a cancellation) came first; the process is still running.
	TimedOut bool `json:"timed_out"`
	// ExitCode is the exit code, when the process exited normally and its status could be
	// read (it was the caller's child, or a zombie whose status /proc still shows).
	ExitCode *int32 `json:"exit_code"`
	// Signal is the signal that ended the process, when its status could be read.
	Signal *int32 `json:"signal"`
	// EndedBy is how the process ended, when its status is known: EndedByExit,
	// EndedBySignal, or EndedByOOMKill for a job's first process killed by the OOM killer.
	EndedBy *string `json:"ended_by"`
	// Usage is what the job's whole tree used, when the process led a job with a cgroup of
	// its own; nil for any other process.
	Usage *JobUsage `json:"usage"`
	// Warnings say anything worth logging (why the status is unknown, "cancelled").
	Warnings []string `json:"warnings"`
}

// FdKind is what a file descriptor refers to.
type FdKind string

// The fd kinds.
const (
	FdFile        FdKind = "file"
	FdDirectory   FdKind = "directory"
	FdSocket      FdKind = "socket"
	FdPipe        FdKind = "pipe"
	FdAnonInode   FdKind = "anon_inode"
	FdCharDevice  FdKind = "char_device"
	FdBlockDevice FdKind = "block_device"
	FdUnknown     FdKind = "unknown"
)

// FdFilter selects fds for ListFds.
type FdFilter struct {
	// Kinds: only fds of these kinds; nil for all.
	Kinds []FdKind `json:"kinds,omitempty"`
}

// FdSnapshot is the open file descriptors of one process.
type FdSnapshot struct {
	// SchemaID is always "https://sysprims.dev/schemas/fd-snapshot/v1.json".
	SchemaID string `json:"schema_id"`
	// PID is the process.
	PID uint32 `json:"pid"`
	// FDs are the fds that pass the filter, by number.
	FDs []FdInfo `json:"fds"`
}

// FdInfo is one open file descriptor.
type FdInfo struct {
	// FD is the fd number.
	FD uint32 `json:"fd"`
	// Kind is what it refers to.
	Kind FdKind `json:"kind"`
	// Target is the link text as the kernel gives it ("/etc/hosts", "socket:[123]").
	Target string `json:"target"`
	// Path is the path, for files, directories and devices.
	Path *string `json:"path"`
	// AnonType is an anonymous inode's type ("eventfd", "pidfd", ...).
	AnonType *string `json:"anon_type"`
	// Inode is the inode number, where known.
	Inode *uint64 `json:"inode"`
	// Access is how it was opened: "read", "write" or "read_write".
	Access *string `json:"access"`
	// Flags are the open flags (O_* bits).
	Flags *uint32 `json:"flags"`
	// Cloexec says whether the fd is closed on exec.
	Cloexec *bool `json:"cloexec"`
	// Offset is the file offset.
	Offset *uint64 `json:"offset"`
	// Socket is what the kernel's socket tables say, for a socket found in them.
	Socket *SocketInfo `json:"socket"`
}

// SocketInfo is what the kernel's socket tables say about a socket.
type SocketInfo struct {
	// Family is "ipv4", "ipv6" or "unix".
	Family string `json:"family"`
	// Protocol is "tcp", "udp", "unix_stream", "unix_dgram" or "unix_seqpacket".
	Protocol string `json:"protocol"`
	// LocalAddress is an IP address, or a Unix socket's path.
	LocalAddress *string `json:"local_address"`
	// LocalPort is the local port (IP sockets).
	LocalPort *uint16 `json:"local_port"`
	// RemoteAddress is the peer's address (IP sockets).
	RemoteAddress *string `json:"remote_address"`
	// RemotePort is the peer's port (IP sockets; 0 when not connected).
	RemotePort *uint16 `json:"remote_port"`
	// State is the socket state ("listen", "established", "unconnected", ...).
	State string `json:"state"`
}

// Protocol is a transport protocol of ListeningPorts.
type Protocol string

// The protocols.
const (
	ProtocolTCP Protocol = "tcp"
	ProtocolUDP Protocol = "udp"
)

// PortFilter selects listening sockets. Every criterion that is set must hold.
type PortFilter struct {
	// Protocol: only this protocol (empty: TCP and UDP).
	Protocol Protocol `json:"protocol,omitempty"`
	// Port: only this local port (1 to 65535).
	Port *uint16 `json:"port,omitempty"`
	// PID: only sockets this process holds.
	PID *uint32 `json:"pid,omitempty"`
}

// PortBindings is the listening sockets of the caller's network namespace.
type PortBindings struct {
	// SchemaID is always "https://sysprims.dev/schemas/port-bindings/v1.json".
	SchemaID string `json:"schema_id"`
	// Bindings are the sockets, by protocol, port, family and address.
	Bindings []PortBinding `json:"bindings"`
	// UnreadablePIDs are processes whose fds the caller may not read.
	UnreadablePIDs []uint32 `json:"unreadable_pids"`
	// Warnings say what the caller should know about the result.
	Warnings []string `json:"warnings"`
}

// PortBinding is one listening socket.
type PortBinding struct {
	// Protocol is "tcp" or "udp".
	Protocol Protocol `json:"protocol"`
	// Family is "ipv4" or "ipv6".
	Family string `json:"family"`
	// LocalAddress is the address it listens on.
	LocalAddress string `json:"local_address"`
	// LocalPort is the port.
	LocalPort uint16 `json:"local_port"`
	// State is "listen" for TCP, "unconnected" for UDP.
	State string `json:"state"`
	// Inode is the socket's inode.
	Inode uint64 `json:"inode"`
	// UID is the UID that created the socket.
	UID uint32 `json:"uid"`
	// Processes are every process that holds the socket.
	Processes []PortProcess `json:"processes"`
}

// PortProcess is a process holding a listening socket.
type PortProcess struct {
	// PID is the process.
	PID uint32 `json:"pid"`
	// Name is its name.
	Name string `json:"name"`
	// UID is its effective UID.
	UID uint32 `json:"uid"`
	// User is the user's name, when known.
	User *string `json:"user"`
	// FDs are the fds that hold the socket.
	FDs []uint32 `json:"fds"`
}
