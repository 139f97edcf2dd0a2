package sysprims

import (
	"encoding/json"
	"fmt"
)

// ProcessIdentity is what identifies one process across time: store it (it is plain JSON)
// when a job starts, and check it later with VerifyIdentity or signal through it with
// SignalIf. SpawnInGroupResult.Identity is one, with every field the kernel offers.
//
// The fields, strongest first: PidfsInode (Linux 6.9+, never reused within a boot), the start
// in clock ticks after boot with BootID, StartTimeUnixMS, and ExePath. At least one besides
// PID must be set.
type ProcessIdentity struct {
	// PID is the process ID.
	PID uint32 `json:"pid"`
	// StartTimeUnixMS is the start time in Unix milliseconds, as in ProcessInfo.
	StartTimeUnixMS *uint64 `json:"start_time_unix_ms,omitempty"`
	// StartTimeBootTicks is the start in clock ticks after boot.
	StartTimeBootTicks *uint64 `json:"start_time_boot_ticks,omitempty"`
	// BootID is the kernel's boot ID: tick counts and pidfs inodes mean something only
	// within one boot.
	BootID *string `json:"boot_id,omitempty"`
	// ExePath is the executable's path.
	ExePath *string `json:"exe_path,omitempty"`
	// PidfsInode is the inode of the process's pidfd on pidfs (Linux 6.9+).
	PidfsInode *uint64 `json:"pidfs_inode,omitempty"`
}

// Identity status values of IdentityCheck.Status and GuardedSignalResult.Status.
const (
	IdentitySame   = "same"   // the PID still names the identified process
	IdentityReused = "reused" // another process has the PID now
	IdentityGone   = "gone"   // no process has the PID
)

// IdentityCheck is VerifyIdentity's answer.
type IdentityCheck struct {
	// Status is IdentitySame, IdentityReused or IdentityGone.
	Status string `json:"status"`
	// Reason is the evidence, when Status is IdentityReused.
	Reason *ReuseReason `json:"reason,omitempty"`
}

// Same reports whether the PID still names the identified process.
func (c *IdentityCheck) Same() bool { return c != nil && c.Status == IdentitySame }

// ReuseReason kinds.
const (
	ReuseBootChanged        = "boot_changed"
	ReusePidfsInodeMismatch = "pidfs_inode_mismatch"
	ReuseStartTimeMismatch  = "start_time_mismatch"
	ReuseExePathChanged     = "exe_path_changed"
)

// ReuseReason is the evidence that a PID names another process than the one identified.
// Kind says which fields are set.
type ReuseReason struct {
	// Kind is ReuseBootChanged, ReusePidfsInodeMismatch, ReuseStartTimeMismatch or
	// ReuseExePathChanged.
	Kind string
	// StoredBootID and CurrentBootID, for ReuseBootChanged.
	StoredBootID, CurrentBootID string
	// StoredInode and CurrentInode, for ReusePidfsInodeMismatch.
	StoredInode, CurrentInode uint64
	// StoredUnixMS and CurrentUnixMS, for ReuseStartTimeMismatch (either may be nil).
	StoredUnixMS, CurrentUnixMS *uint64
	// StoredExePath and CurrentExePath, for ReuseExePathChanged.
	StoredExePath, CurrentExePath string
}

// UnmarshalJSON decodes the library's tagged ReuseReason document.
func (r *ReuseReason) UnmarshalJSON(data []byte) error {
	var raw struct {
		Kind          string          `json:"kind"`
		Stored        json.RawMessage `json:"stored"`
		Current       json.RawMessage `json:"current"`
		StoredUnixMS  *uint64         `json:"stored_unix_ms"`
		CurrentUnixMS *uint64         `json:"current_unix_ms"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*r = ReuseReason{Kind: raw.Kind, StoredUnixMS: raw.StoredUnixMS, CurrentUnixMS: raw.CurrentUnixMS}
	var stored, current any
	switch raw.Kind {
	case ReuseBootChanged:
		stored, current = &r.StoredBootID, &r.CurrentBootID
	case ReusePidfsInodeMismatch:
		stored, current = &r.StoredInode, &r.CurrentInode
	case ReuseExePathChanged:
		stored, current = &r.StoredExePath, &r.CurrentExePath
	default:
		return nil
	}
	if err := json.Unmarshal(raw.Stored, stored); err != nil {
		return err
	}
	return json.Unmarshal(raw.Current, current)
}

// MarshalJSON encodes the reason as the library does.
func (r ReuseReason) MarshalJSON() ([]byte, error) {
	doc := map[string]any{"kind": r.Kind}
	switch r.Kind {
	case ReuseBootChanged:
		doc["stored"], doc["current"] = r.StoredBootID, r.CurrentBootID
	case ReusePidfsInodeMismatch:
		doc["stored"], doc["current"] = r.StoredInode, r.CurrentInode
	case ReuseExePathChanged:
		doc["stored"], doc["current"] = r.StoredExePath, r.CurrentExePath
	case ReuseStartTimeMismatch:
		doc["stored_unix_ms"], doc["current_unix_ms"] = r.StoredUnixMS, r.CurrentUnixMS
	}
	return json.Marshal(doc)
}

// String describes the evidence for a log line.
func (r ReuseReason) String() string {
	opt := func(v *uint64) string {
		if v == nil {
			return "unknown"
		}
		return fmt.Sprintf("%d ms", *v)
	}
	switch r.Kind {
	case ReuseBootChanged:
		return fmt.Sprintf("the system rebooted (boot ID %s is now %s)", r.StoredBootID, r.CurrentBootID)
	case ReusePidfsInodeMismatch:
		return fmt.Sprintf("pidfs inode %d is now %d: another process", r.StoredInode, r.CurrentInode)
	case ReuseStartTimeMismatch:
		return fmt.Sprintf("start time mismatch (stored %s, now %s)", opt(r.StoredUnixMS), opt(r.CurrentUnixMS))
	case ReuseExePathChanged:
		return fmt.Sprintf("exe path mismatch (stored %q, now %q)", r.StoredExePath, r.CurrentExePath)
	}
	return r.Kind
}
