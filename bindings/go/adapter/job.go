package adapter

import (
	"errors"
	"slices"

	"sysprims.dev/sysprims"
)

// ErrIdentityUnknown is returned by JobRecord.VerifyIdentity when the record holds nothing
// to compare (no identity, start time, executable, command line or name): the guide's
// "ambiguous" case, to be treated as unknown, never as "same".
var ErrIdentityUnknown = errors.New("adapter: the job record holds nothing to verify the process's identity with")

// JobRecord is what a supervisor stores about a job so that, later, it signals that
// process and no other: the guide's Phase 1 record. It is plain data (JSON-friendly).
type JobRecord struct {
	// PID is the job's process.
	PID uint32 `json:"pid"`
	// StartTimeMs is the process's start time, Unix ms (nil when unknown).
	StartTimeMs *uint64 `json:"start_time_unix_ms,omitempty"`
	// ExePath is its executable (nil when unknown).
	ExePath *string `json:"exe_path,omitempty"`
	// Cmdline is its command line, compared only when neither of the above is known.
	Cmdline []string `json:"cmdline,omitempty"`
	// Name is its name, compared with Cmdline.
	Name string `json:"name,omitempty"`
	// PGID is its process group, when it leads one.
	PGID *uint32 `json:"pgid,omitempty"`
	// TreeKillReliability is what the spawn reported.
	TreeKillReliability string `json:"tree_kill_reliability,omitempty"`
	// Identity is the full identity sysprims captured at spawn (pidfs inode, boot ID, start
	// ticks), the strongest evidence; nil for records made from a ProcessInfo.
	Identity *sysprims.ProcessIdentity `json:"identity,omitempty"`
}

// RecordFromInfo makes a record from a ProcessInfo (sysprims.ProcessGet at job creation).
func RecordFromInfo(info *ProcessInfo) JobRecord {
	return JobRecord{
		PID:         info.PID,
		StartTimeMs: info.StartTimeUnixMS,
		ExePath:     info.ExePath,
		Cmdline:     info.Cmdline,
		Name:        info.Name,
	}
}

// RecordFromSpawn makes a record from a spawn's result, with its full identity.
func RecordFromSpawn(res *SpawnInGroupResult) JobRecord {
	id := res.Identity
	return JobRecord{
		PID:                 res.PID,
		StartTimeMs:         id.StartTimeUnixMS,
		ExePath:             id.ExePath,
		PGID:                res.PGID,
		TreeKillReliability: res.TreeKillReliability,
		Identity:            &id,
	}
}

// Check asks sysprims whether the PID still names the recorded process, with the strongest
// evidence the record has: the full identity, else the start time and executable. With
// neither, it compares the command line and name of the process now at the PID (weak: a
// restarted copy of the same program matches); with nothing at all it is ErrIdentityUnknown.
func (j *JobRecord) Check() (*sysprims.IdentityCheck, error) {
	switch {
	case j.Identity != nil:
		return sysprims.VerifyIdentity(*j.Identity)
	case j.StartTimeMs != nil || j.ExePath != nil:
		return sysprims.VerifyIdentity(sysprims.ProcessIdentity{PID: j.PID, StartTimeUnixMS: j.StartTimeMs, ExePath: j.ExePath})
	case len(j.Cmdline) > 0 || j.Name != "":
		current, err := sysprims.ProcessGet(j.PID)
		if errors.Is(err, sysprims.ErrNotFound) {
			return &sysprims.IdentityCheck{Status: sysprims.IdentityGone}, nil
		}
		if err != nil {
			return nil, err
		}
		if (len(j.Cmdline) > 0 && !slices.Equal(current.Cmdline, j.Cmdline)) || (j.Name != "" && current.Name != j.Name) {
			return &sysprims.IdentityCheck{Status: sysprims.IdentityReused}, nil
		}
		return &sysprims.IdentityCheck{Status: sysprims.IdentitySame}, nil
	}
	return nil, ErrIdentityUnknown
}

// VerifyIdentity reports whether the PID still names the recorded process: true only when
// it does; false with a nil error when the process is gone or the PID was reused; an error
// when it cannot be told (ErrIdentityUnknown, permission).
func (j *JobRecord) VerifyIdentity() (bool, error) {
	check, err := j.Check()
	if err != nil {
		return false, err
	}
	return check.Same(), nil
}
