// Package adapter is the Supervisor Integration Guide's adapter pattern, shipped so that
// teams stop hand-writing it: one small interface ([ProcessAdapter]) with a sysprims-backed
// implementation ([SysprimsAdapter]), a legacy one on os/exec and syscall ([LegacyAdapter]),
// a [FallbackAdapter] that uses sysprims and degrades to legacy only on the safe-to-degrade
// errors (PermissionDenied, NotSupported) behind an option, a [Metrics] hook reporting
// reliability, escalation and warnings per call, and a [JobRecord] that stores a job's
// identity and verifies it before any signal.
//
// The guide's rollout strategy, in code:
//
//	procs := adapter.NewFallbackAdapter(adapter.Options{
//		DisableSysprims: !flags.UseSysprims,    // 1. default to sysprims behind a feature flag
//		FallbackToLegacy: true,                  // 2. legacy for safe-to-degrade errors only
//		Metrics: adapter.MetricsFunc(record),    // 3. reliability, escalation, warnings
//	})
//
// Every adapter here owns the children it spawns: it reaps them when they exit (no zombies),
// and TerminateTree refuses (ErrNotFound) to signal a PID whose job it already saw exit, since
// the PID may have been reused since.
package adapter

import (
	"sysprims.dev/sysprims"
)

// The sysprims types, under the names the guide's interface uses.
type (
	// ProcessInfo is sysprims.ProcessInfo.
	ProcessInfo = sysprims.ProcessInfo
	// SpawnInGroupConfig is sysprims.SpawnInGroupConfig.
	SpawnInGroupConfig = sysprims.SpawnInGroupConfig
	// SpawnInGroupResult is sysprims.SpawnInGroupResult.
	SpawnInGroupResult = sysprims.SpawnInGroupResult
	// TerminateTreeConfig is sysprims.TerminateTreeConfig.
	TerminateTreeConfig = sysprims.TerminateTreeConfig
	// TerminateTreeResult is sysprims.TerminateTreeResult.
	TerminateTreeResult = sysprims.TerminateTreeResult
	// WaitPIDResult is sysprims.WaitPIDResult.
	WaitPIDResult = sysprims.WaitPIDResult
)

// ProcessAdapter is the guide's interface: the three process operations a supervisor needs,
// behind which sysprims and the legacy code can be swapped.
type ProcessAdapter interface {
	// GetProcess reads one process (sysprims.ProcessGet).
	GetProcess(pid uint32) (*ProcessInfo, error)
	// SpawnInGroup starts a job in a group of its own (sysprims.SpawnInGroup).
	SpawnInGroup(config SpawnInGroupConfig) (*SpawnInGroupResult, error)
	// TerminateTree ends a process and its descendants (sysprims.TerminateTree).
	TerminateTree(pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error)
}

// Waiter is implemented by the adapters of this package: Wait blocks until a job the adapter
// spawned has exited and returns how (the adapter reaps its own children).
type Waiter interface {
	// Wait blocks until the job pid has exited and returns how it ended.
	Wait(pid uint32) (*WaitPIDResult, error)
}

// Names of the backends in [Event.Backend].
const (
	BackendSysprims = "sysprims"
	BackendLegacy   = "legacy"
)

// Names of the operations in [Event.Op].
const (
	OpGetProcess    = "get_process"
	OpSpawnInGroup  = "spawn_in_group"
	OpTerminateTree = "terminate_tree"
)

// durations of the library's defaults, for the legacy adapter.
const (
	defaultGraceMS = 5000
	defaultKillMS  = 2000
)

func orDefault(v *uint64, def uint64) uint64 {
	if v == nil {
		return def
	}
	return *v
}
