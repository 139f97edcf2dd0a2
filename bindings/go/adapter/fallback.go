package adapter

import (
	"errors"
	"time"

	"sysprims.dev/sysprims"
)

// Event is what the metrics hook hears about one adapter call.
type Event struct {
	// Op is OpGetProcess, OpSpawnInGroup or OpTerminateTree.
	Op string
	// Backend is the adapter that produced the outcome: BackendSysprims or BackendLegacy.
	Backend string
	// FellBack is true when sysprims failed with a safe-to-degrade error (SysprimsErr) and
	// the legacy adapter was used instead.
	FellBack bool
	// SysprimsErr is the sysprims error that caused a fallback.
	SysprimsErr error
	// PID is the process the call was about (the new job's, for a spawn).
	PID uint32
	// TreeKillReliability is the result's reliability (spawn and terminate).
	TreeKillReliability string
	// Escalated is true when the kill signal was needed (terminate).
	Escalated bool
	// Warnings are the result's warnings.
	Warnings []string
	// Err is the call's error, nil on success.
	Err error
	// Duration is the call's wall time.
	Duration time.Duration
}

// Metrics receives one Event per adapter call. Implementations must be safe for concurrent
// use: adapters are called from many goroutines.
type Metrics interface {
	// Record hears about one call.
	Record(Event)
}

// MetricsFunc adapts a function to Metrics.
type MetricsFunc func(Event)

// Record calls f(e).
func (f MetricsFunc) Record(e Event) { f(e) }

// Options configure a FallbackAdapter. The zero value uses sysprims and never falls back.
type Options struct {
	// DisableSysprims is the feature flag's off position: every call goes to the legacy
	// adapter.
	DisableSysprims bool
	// FallbackToLegacy retries a call with the legacy adapter when sysprims fails with a
	// safe-to-degrade error: ErrPermissionDenied or ErrNotSupported (hardened containers,
	// old kernels, other platforms). Other errors are returned as they are: NotFound means
	// the process is gone (a legacy retry could signal a stranger that reused the PID), and
	// InvalidArgument is a bug in the caller.
	FallbackToLegacy bool
	// Metrics, when set, hears about every call.
	Metrics Metrics
	// Sysprims is the primary backend: nil means a new SysprimsAdapter. Any ProcessAdapter
	// will do (one that wraps a SysprimsAdapter, say); Wait needs it to be a Waiter.
	Sysprims ProcessAdapter
	// Legacy is the fallback backend: nil means a new LegacyAdapter.
	Legacy *LegacyAdapter
}

// FallbackAdapter is the guide's rollout strategy as a ProcessAdapter: sysprims by default
// behind a feature flag (Options.DisableSysprims), the legacy adapter as the fallback for
// the safe-to-degrade error classes only (Options.FallbackToLegacy), and metrics on
// reliability, escalation and warnings (Options.Metrics).
//
// TerminateTree goes to the backend that spawned the job, so a job started by the legacy
// fallback is ended by the legacy adapter.
type FallbackAdapter struct {
	opts Options
}

var _ ProcessAdapter = (*FallbackAdapter)(nil)

// NewFallbackAdapter makes a FallbackAdapter with opts.
func NewFallbackAdapter(opts Options) *FallbackAdapter {
	if opts.Sysprims == nil {
		opts.Sysprims = &SysprimsAdapter{}
	}
	if opts.Legacy == nil {
		opts.Legacy = &LegacyAdapter{}
	}
	return &FallbackAdapter{opts: opts}
}

// Degradable reports whether err is one of the error classes the guide calls safe to
// degrade on: ErrPermissionDenied and ErrNotSupported.
func Degradable(err error) bool {
	return errors.Is(err, sysprims.ErrPermissionDenied) || errors.Is(err, sysprims.ErrNotSupported)
}

// GetProcess reads pid through sysprims (or legacy, as configured).
func (f *FallbackAdapter) GetProcess(pid uint32) (*ProcessInfo, error) {
	ev := Event{Op: OpGetProcess, PID: pid}
	start := time.Now()
	info, err := run(f, &ev, func(a ProcessAdapter) (*ProcessInfo, error) { return a.GetProcess(pid) }, nil)
	f.record(ev, start, err)
	return info, err
}

// SpawnInGroup starts a job through sysprims (or legacy, as configured).
func (f *FallbackAdapter) SpawnInGroup(config SpawnInGroupConfig) (*SpawnInGroupResult, error) {
	ev := Event{Op: OpSpawnInGroup}
	start := time.Now()
	res, err := run(f, &ev, func(a ProcessAdapter) (*SpawnInGroupResult, error) { return a.SpawnInGroup(config) }, nil)
	if res != nil {
		ev.PID, ev.TreeKillReliability, ev.Warnings = res.PID, res.TreeKillReliability, res.Warnings
	}
	f.record(ev, start, err)
	return res, err
}

// TerminateTree ends a tree through the backend that spawned it; any other PID through
// sysprims (or legacy, as configured).
func (f *FallbackAdapter) TerminateTree(pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error) {
	ev := Event{Op: OpTerminateTree, PID: pid}
	start := time.Now()
	var forced ProcessAdapter
	if f.opts.Legacy.owns(pid) {
		forced = f.opts.Legacy
	}
	res, err := run(f, &ev, func(a ProcessAdapter) (*TerminateTreeResult, error) { return a.TerminateTree(pid, config) }, forced)
	if res != nil {
		ev.TreeKillReliability, ev.Escalated, ev.Warnings = res.TreeKillReliability, res.Escalated, res.Warnings
	}
	f.record(ev, start, err)
	return res, err
}

// Wait blocks until a job this adapter spawned has exited, whichever backend spawned it.
func (f *FallbackAdapter) Wait(pid uint32) (*WaitPIDResult, error) {
	if f.opts.Legacy.owns(pid) {
		return f.opts.Legacy.Wait(pid)
	}
	if w, ok := f.opts.Sysprims.(Waiter); ok {
		return w.Wait(pid)
	}
	return nil, notOursError("Wait", pid)
}

// run calls the configured backend and, on a degradable sysprims error with fallback on,
// the legacy one.
func run[T any](f *FallbackAdapter, ev *Event, call func(ProcessAdapter) (T, error), forced ProcessAdapter) (T, error) {
	if forced != nil || f.opts.DisableSysprims {
		ev.Backend = BackendLegacy
		return call(f.opts.Legacy)
	}
	ev.Backend = BackendSysprims
	res, err := call(f.opts.Sysprims)
	if err != nil && f.opts.FallbackToLegacy && Degradable(err) {
		ev.Backend, ev.FellBack, ev.SysprimsErr = BackendLegacy, true, err
		return call(f.opts.Legacy)
	}
	return res, err
}

func (f *FallbackAdapter) record(ev Event, start time.Time, err error) {
	if f.opts.Metrics == nil {
		return
	}
	ev.Err = err
	ev.Duration = time.Since(start)
	f.opts.Metrics.Record(ev)
}

// Instrument wraps any ProcessAdapter so that m hears about every call, with backend as
// Event.Backend.
func Instrument(a ProcessAdapter, backend string, m Metrics) ProcessAdapter {
	return &instrumented{a: a, backend: backend, m: m}
}

type instrumented struct {
	a       ProcessAdapter
	backend string
	m       Metrics
}

// GetProcess calls the wrapped adapter and records the call.
func (i *instrumented) GetProcess(pid uint32) (*ProcessInfo, error) {
	start := time.Now()
	info, err := i.a.GetProcess(pid)
	i.m.Record(Event{Op: OpGetProcess, Backend: i.backend, PID: pid, Err: err, Duration: time.Since(start)})
	return info, err
}

// SpawnInGroup calls the wrapped adapter and records the call.
func (i *instrumented) SpawnInGroup(config SpawnInGroupConfig) (*SpawnInGroupResult, error) {
	start := time.Now()
	res, err := i.a.SpawnInGroup(config)
	ev := Event{Op: OpSpawnInGroup, Backend: i.backend, Err: err}
	if res != nil {
		ev.PID, ev.TreeKillReliability, ev.Warnings = res.PID, res.TreeKillReliability, res.Warnings
	}
	ev.Duration = time.Since(start)
	i.m.Record(ev)
	return res, err
}

// TerminateTree calls the wrapped adapter and records the call.
func (i *instrumented) TerminateTree(pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error) {
	start := time.Now()
	res, err := i.a.TerminateTree(pid, config)
	ev := Event{Op: OpTerminateTree, Backend: i.backend, PID: pid, Err: err}
	if res != nil {
		ev.TreeKillReliability, ev.Escalated, ev.Warnings = res.TreeKillReliability, res.Escalated, res.Warnings
	}
	ev.Duration = time.Since(start)
	i.m.Record(ev)
	return res, err
}
