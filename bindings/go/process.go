package sysprims

import (
	"encoding/json"
)

// ProcessInfo is one process, as read at one instant (the library's ProcessInfo document).
//
// Optional values are nil when they cannot be known (permission hides them, the kernel does not
// have them); they are never guessed.
type ProcessInfo struct {
	// PID is the process ID.
	PID uint32 `json:"pid"`
	// PPID is the parent's PID; 0 when the process has none.
	PPID uint32 `json:"ppid"`
	// PGID is the process group ID.
	PGID uint32 `json:"pgid"`
	// SID is the session ID.
	SID uint32 `json:"sid"`
	// Name is the kernel's name for the process (comm, at most 15 bytes on Linux).
	Name string `json:"name"`
	// UID is the effective user ID.
	UID uint32 `json:"uid"`
	// User is the name of the effective user; nil when the user database has no entry.
	User *string `json:"user"`
	// State is the scheduling state ("running", "sleeping", "zombie", ...).
	State ProcessState `json:"state"`
	// KernelThread is true for kernel threads (no executable, no command line).
	KernelThread bool `json:"kernel_thread"`
	// CPUPercent is CPU use in percent of one CPU: the lifetime average, or the rate over
	// the sampling interval when a listing was sampled. Can exceed 100.
	CPUPercent float64 `json:"cpu_percent"`
	// MemoryKB is the resident set size in KiB.
	MemoryKB uint64 `json:"memory_kb"`
	// ThreadCount is the number of threads.
	ThreadCount uint32 `json:"thread_count"`
	// ElapsedMS is the time since the process started, in milliseconds.
	ElapsedMS uint64 `json:"elapsed_ms"`
	// StartTimeUnixMS is the start time in Unix milliseconds, at clock-tick resolution
	// (10 ms). It is exactly the same on every read, from any process, for as long as the
	// process lives, so it can be compared with != to detect PID reuse.
	StartTimeUnixMS *uint64 `json:"start_time_unix_ms"`
	// StartTimeUnixMs is StartTimeUnixMS under a second spelling: the same pointer, set
	// whenever this package fills a ProcessInfo.
	//
	// It exists because the Supervisor Integration Guide our users are handed spells the
	// field both ways (info.StartTimeUnixMS when recording a job, current.StartTimeUnixMs
	// when verifying it), and both snippets must compile unmodified. New code should use
	// StartTimeUnixMS. When both are set and differ on encoding, StartTimeUnixMS wins.
	StartTimeUnixMs *uint64 `json:"-"`
	// StartTimeBootTicks is the start in clock ticks after boot: immune to wall-clock
	// steps, comparable within one boot (BootID).
	StartTimeBootTicks *uint64 `json:"start_time_boot_ticks"`
	// BootID is the kernel's boot ID, which scopes StartTimeBootTicks and PidfsInode.
	BootID *string `json:"boot_id"`
	// PidfsInode is the inode of the process's pidfd on pidfs (Linux 6.9+), never given to
	// another process within one boot: it alone tells apart two processes of the same
	// program that had the same PID within the same 10 ms clock tick. ProcessGet fills it;
	// it is nil in listings (ProcessList, Descendants) and on older kernels.
	PidfsInode *uint64 `json:"pidfs_inode"`
	// ExePath is the absolute path of the executable; nil when it cannot be read.
	ExePath *string `json:"exe_path"`
	// ExeDeleted is true when the executable has been deleted or replaced since the
	// process started (ExePath is then the path it had).
	ExeDeleted bool `json:"exe_deleted"`
	// Cmdline is the command line, argv[0] first. Empty for kernel threads and zombies, and
	// when permission hides it. Invalid UTF-8 is replaced by U+FFFD (see CmdlineBase64).
	Cmdline []string `json:"cmdline"`
	// CmdlineBase64 is present only when some argument is not valid UTF-8: every
	// argument's exact bytes, standard base64, in the order of Cmdline.
	CmdlineBase64 []string `json:"cmdline_base64,omitempty"`
	// Env is the environment, only when asked for (ProcessOptions.IncludeEnv) and permitted.
	Env map[string]string `json:"env,omitempty"`
}

// Identity is the identity to store for this process and to hand to the guards later
// (SignalIf, VerifyIdentity, TerminateTreeConfig.RequireIdentity): every field ProcessInfo
// has of it, the pidfs inode included. A guard built from what ProcessGet returned is as
// strong as SpawnInGroupResult.Identity. (A guard of StartTimeUnixMS and ExePath alone cannot
// tell apart a newcomer of the same program that took the PID within the same clock tick.)
func (p *ProcessInfo) Identity() ProcessIdentity {
	start := p.StartTimeUnixMS
	if start == nil {
		start = p.StartTimeUnixMs
	}
	return ProcessIdentity{
		PID:                p.PID,
		StartTimeUnixMS:    start,
		StartTimeBootTicks: p.StartTimeBootTicks,
		BootID:             p.BootID,
		ExePath:            p.ExePath,
		PidfsInode:         p.PidfsInode,
	}
}

// processInfoJSON has ProcessInfo's fields and none of its methods, for the default codec.
type processInfoJSON ProcessInfo

// syncAliases makes the two spellings of the start time one pointer.
func (p *ProcessInfo) syncAliases() {
	if p.StartTimeUnixMS == nil {
		p.StartTimeUnixMS = p.StartTimeUnixMs
	}
	p.StartTimeUnixMs = p.StartTimeUnixMS
}

// UnmarshalJSON decodes the library's ProcessInfo document and sets both spellings of the
// start time.
func (p *ProcessInfo) UnmarshalJSON(data []byte) error {
	var raw processInfoJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*p = ProcessInfo(raw)
	p.StartTimeUnixMs = p.StartTimeUnixMS
	return nil
}

// MarshalJSON encodes the library's ProcessInfo document; the start time comes from
// StartTimeUnixMS, or from StartTimeUnixMs when only that is set.
func (p ProcessInfo) MarshalJSON() ([]byte, error) {
	p.syncAliases()
	return json.Marshal(processInfoJSON(p))
}

// ProcessState is a scheduling state, from the state letter of /proc/<pid>/stat.
type ProcessState string

// The scheduling states.
const (
	StateRunning     ProcessState = "running"      // R
	StateSleeping    ProcessState = "sleeping"     // S
	StateDiskSleep   ProcessState = "disk_sleep"   // D
	StateStopped     ProcessState = "stopped"      // T
	StateTracingStop ProcessState = "tracing_stop" // t
	StateZombie      ProcessState = "zombie"       // Z: exited, not yet reaped
	StateDead        ProcessState = "dead"         // X
	StateIdle        ProcessState = "idle"         // I: idle kernel thread
	StateParked      ProcessState = "parked"       // P
	StateUnknown     ProcessState = "unknown"      // any other letter
)

// ProcessFilter selects processes. Every criterion that is set must hold; the zero value
// selects all.
type ProcessFilter struct {
	// NameContains: the name contains this text (case-sensitive). Empty: no criterion.
	NameContains string `json:"name_contains,omitempty"`
	// NameEquals: the name is exactly this. Empty: no criterion.
	NameEquals string `json:"name_equals,omitempty"`
	// User: the effective user, by name or numeric UID. Empty: no criterion.
	User string `json:"user,omitempty"`
	// PPID: the parent PID.
	PPID *uint32 `json:"ppid,omitempty"`
	// PIDs: only these PIDs. nil means any PID; an empty non-nil slice selects nothing.
	PIDs []uint32 `json:"pids"`
	// State: the scheduling state. Empty: no criterion.
	State ProcessState `json:"state,omitempty"`
	// CPUAbove: CPU use above this percentage.
	CPUAbove *float64 `json:"cpu_above,omitempty"`
	// MemoryAboveKB: resident memory above this many KiB.
	MemoryAboveKB *uint64 `json:"memory_above_kb,omitempty"`
	// RunningForMS: running for at least this many milliseconds.
	RunningForMS *uint64 `json:"running_for_ms,omitempty"`
}

// SortKey orders a listing. Ascending for pid, name and start_time; descending (busiest
// first) for cpu and memory. Ties are broken by PID.
type SortKey string

// The sort keys.
const (
	SortPID       SortKey = "pid"
	SortName      SortKey = "name"
	SortCPU       SortKey = "cpu"
	SortMemory    SortKey = "memory"
	SortStartTime SortKey = "start_time"
)

// ProcessOptions says what to read besides the usual fields.
type ProcessOptions struct {
	// IncludeEnv reads each process's environment into ProcessInfo.Env (off by default:
	// environments are large and often hold secrets).
	IncludeEnv bool `json:"include_env,omitempty"`
}

// SnapshotOptions says how ProcessList lists processes. The zero value lists all, by PID.
type SnapshotOptions struct {
	// Filter selects the processes.
	Filter ProcessFilter `json:"filter"`
	// Sort is the sort key (empty: by PID).
	Sort SortKey `json:"sort,omitempty"`
	// Reverse reverses the sort key's default direction.
	Reverse bool `json:"reverse,omitempty"`
	// Limit keeps only the first N after sorting; nil keeps all.
	Limit *uint64 `json:"limit,omitempty"`
	// CPUSampleMS measures CPU over this many milliseconds (the call blocks for it) instead
	// of using lifetime averages: 1 to 3,600,000 (one hour); a larger value is an
	// InvalidArgument error, not an endless wait.
	CPUSampleMS *uint64 `json:"cpu_sample_ms,omitempty"`
	// Process says what to read besides the usual fields.
	Process ProcessOptions `json:"process"`
}

// ProcessSnapshot is a listing of processes read at one time.
type ProcessSnapshot struct {
	// SchemaID is always "https://sysprims.dev/schemas/process-snapshot/v1.json".
	SchemaID string `json:"schema_id"`
	// TimestampUnixMS is when the listing was read.
	TimestampUnixMS uint64 `json:"timestamp_unix_ms"`
	// CPUSampleMS is the sampling interval actually measured, when CPU was sampled.
	CPUSampleMS *uint64 `json:"cpu_sample_ms"`
	// Processes are the processes, filtered, sorted and limited as asked.
	Processes []ProcessInfo `json:"processes"`
}

// ProcessTree is a process and its descendants, as a flat list in depth-first pre-order:
// every process comes before its children, each with its depth (0 for the root).
type ProcessTree struct {
	// SchemaID is always "https://sysprims.dev/schemas/process-tree/v1.json".
	SchemaID string `json:"schema_id"`
	// RootPID is the PID whose descendants these are.
	RootPID uint32 `json:"root_pid"`
	// MaxLevels is how many levels below the root were included; nil for all.
	MaxLevels *uint32 `json:"max_levels"`
	// Nodes are the root (first, depth 0) and its descendants.
	Nodes []TreeNode `json:"nodes"`
}

// TreeNode is one process in a ProcessTree: its depth and its ProcessInfo (flattened into
// one JSON object, as the library writes it).
type TreeNode struct {
	// Depth is the number of levels below the root: 0 for the root, 1 for its children.
	Depth uint32
	ProcessInfo
}

// UnmarshalJSON decodes a node: the depth and the process's fields from one object.
func (n *TreeNode) UnmarshalJSON(data []byte) error {
	var depth struct {
		Depth uint32 `json:"depth"`
	}
	if err := json.Unmarshal(data, &depth); err != nil {
		return err
	}
	n.Depth = depth.Depth
	return n.ProcessInfo.UnmarshalJSON(data)
}

// MarshalJSON encodes a node as the library does: the process's fields plus "depth".
func (n TreeNode) MarshalJSON() ([]byte, error) {
	n.syncAliases()
	return json.Marshal(struct {
		Depth uint32 `json:"depth"`
		processInfoJSON
	}{n.Depth, processInfoJSON(n.ProcessInfo)})
}

// Children returns the direct children of the node at index i of t.Nodes.
func (t *ProcessTree) Children(i int) []*TreeNode {
	var out []*TreeNode
	if i < 0 || i >= len(t.Nodes) {
		return nil
	}
	depth := t.Nodes[i].Depth
	for j := i + 1; j < len(t.Nodes) && t.Nodes[j].Depth > depth; j++ {
		if t.Nodes[j].Depth == depth+1 {
			out = append(out, &t.Nodes[j])
		}
	}
	return out
}
