package sysprims_test

// The Supervisor Integration Guide's Go snippets, run as examples. The lines between
// "guide:" and "end of guide" are the guide's own, unmodified but for gofmt's whitespace
// (`log` is the small logger below, so even the logging calls are as written). The code
// around them (the JobRecord and Job types, the pid variable, legacyStop and legacySpawn,
// the worker program) is what a supervisor would already have.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sysprims.dev/sysprims"
	"sysprims.dev/sysprims/adapter"
)

// logger is the supervisor's logger: the guide calls log.Warnf and log.Infof. It writes to
// stderr under go test -v.
type logger struct{}

func (logger) Warnf(format string, args ...any) { logf("WARN "+format, args...) }
func (logger) Infof(format string, args ...any) { logf("INFO "+format, args...) }

func logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

var log logger

// JobRecord is what the supervisor stores at job creation (Phase 1).
type JobRecord struct {
	PID         uint32
	StartTimeMs *uint64
	ExePath     *string
	Cmdline     []string
}

// Job is a running job.
type Job struct {
	PID                 uint32
	PGID                *uint32
	TreeKillReliability string
	StartTimeMs         *uint64
	ExePath             *string

	legacy *adapter.LegacyAdapter
}

// Jobs starts jobs.
type Jobs struct {
	legacy adapter.LegacyAdapter
}

// guide: Phase 1, "Before signaling, verify identity"

func (j *Job) VerifyIdentity() (bool, error) {
	current, err := sysprims.ProcessGet(j.PID)
	if err != nil {
		if errors.Is(err, sysprims.ErrNotFound) {
			return false, nil // Process already dead
		}
		return false, err
	}

	// Primary check: start time
	if j.StartTimeMs != nil && current.StartTimeUnixMs != nil {
		if *current.StartTimeUnixMs != *j.StartTimeMs {
			log.Warnf("PID %d reused: start time mismatch", j.PID)
			return false, nil
		}
	}

	// Fallback check: executable path or cmdline
	if j.ExePath != nil && current.ExePath != nil {
		if *current.ExePath != *j.ExePath {
			log.Warnf("PID %d reused: exe path mismatch", j.PID)
			return false, nil
		}
	}

	return true, nil
}

// end of guide

// Stop is the guide's Phase 2.
func (j *Job) Stop() error {
	job := j
	// guide: Phase 2
	grace := uint64(5000)
	kill := uint64(2000)
	config := sysprims.TerminateTreeConfig{
		GraceTimeoutMS: &grace, // 5 seconds grace period
		KillTimeoutMS:  &kill,  // 2 seconds after kill
	}

	outcome, err := sysprims.TerminateTree(job.PID, config)
	if err != nil {
		// Handle error (NotFound, PermissionDenied, etc.)
		return j.legacyStop()
	}

	// Log outcome for observability
	log.Infof("Terminated PID %d: escalated=%v reliability=%s",
		job.PID, outcome.Escalated, outcome.TreeKillReliability)

	for _, warning := range outcome.Warnings {
		log.Warnf("Termination warning: %s", warning)
	}
	// end of guide
	return nil
}

// Start is the guide's Phase 3.
func (j *Jobs) Start(jobID, workDir string) (*Job, error) {
	// guide: Phase 3
	config := sysprims.SpawnInGroupConfig{
		Argv: []string{"./worker", "--job-id", jobID},
		Cwd:  workDir,
		Env:  map[string]string{"LOG_LEVEL": "info"},
	}

	result, err := sysprims.SpawnInGroup(config)
	if err != nil {
		return j.legacySpawn(config.Argv)
	}

	job := &Job{
		PID:                 result.PID,
		PGID:                result.PGID, // nil on Windows
		TreeKillReliability: result.TreeKillReliability,
	}

	if result.TreeKillReliability != "guaranteed" {
		log.Warnf("Job %s spawned with degraded tree-kill: %s", jobID, result.TreeKillReliability)
	}
	// end of guide
	return job, nil
}

// legacyStop is the supervisor's old stop flow, kept as the fallback.
func (j *Job) legacyStop() error {
	if j.legacy == nil {
		return killJobGroup(j.PID)
	}
	_, err := j.legacy.TerminateTree(j.PID, sysprims.TerminateTreeConfig{})
	return err
}

// legacySpawn is the supervisor's old spawn flow, kept as the fallback.
func (j *Jobs) legacySpawn(argv []string) (*Job, error) {
	res, err := j.legacy.SpawnInGroup(sysprims.SpawnInGroupConfig{Argv: argv})
	if err != nil {
		return nil, err
	}
	return &Job{PID: res.PID, PGID: res.PGID, TreeKillReliability: res.TreeKillReliability, legacy: &j.legacy}, nil
}

// Phase 1: store a job's identity when it starts, verify it before any signal.
func Example_phase1IdentityChecks() {
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	pid := uint32(cmd.Process.Pid)

	// guide: Phase 1, "At job creation, store identity"
	info, _ := sysprims.ProcessGet(pid)
	jobRecord := JobRecord{
		PID:         info.PID,
		StartTimeMs: info.StartTimeUnixMS, // *uint64 (may be nil)
		ExePath:     info.ExePath,         // *string (may be nil)
		Cmdline:     info.Cmdline,
	}
	// end of guide

	job := &Job{PID: jobRecord.PID, StartTimeMs: jobRecord.StartTimeMs, ExePath: jobRecord.ExePath}
	same, err := job.VerifyIdentity()
	fmt.Println("same process:", same, err)

	// A record whose start time is not this process's: the PID was reused.
	earlier := *jobRecord.StartTimeMs - 10
	stale := &Job{PID: jobRecord.PID, StartTimeMs: &earlier}
	same, err = stale.VerifyIdentity()
	fmt.Println("stale record:", same, err)

	cmd.Process.Kill()
	cmd.Wait()
	same, err = job.VerifyIdentity()
	fmt.Println("after exit:", same, err)
	// Output:
	// same process: true <nil>
	// stale record: false <nil>
	// after exit: false <nil>
}

// Phases 3 and 2: start a job kill-tree safe by construction, then stop it, whole.
func Example_phase3SpawnThenPhase2Stop() {
	workDir, _ := os.MkdirTemp("", "sysprims-example-")
	defer os.RemoveAll(workDir)
	ready := filepath.Join(workDir, "ready")
	makeFIFO(ready)
	worker := "#!/bin/sh\necho \"$2 LOG_LEVEL=$LOG_LEVEL\" > ready\nexec sleep 1000\n"
	os.WriteFile(filepath.Join(workDir, "worker"), []byte(worker), 0o755)

	var jobs Jobs
	job, err := jobs.Start("job-42", workDir)
	if err != nil {
		panic(err)
	}
	hello, _ := os.ReadFile(ready) // waits for the worker to write
	fmt.Printf("worker says: %s", hello)

	if err := job.Stop(); err != nil {
		panic(err)
	}
	status, _ := sysprims.WaitPID(job.PID, sysprims.NoTimeout) // reap it
	fmt.Println("exited:", status.Exited, "signal:", *status.Signal)
	// Output:
	// worker says: job-42 LOG_LEVEL=info
	// exited: true signal: 15
}

// The guide's adapter pattern and rollout strategy, shipped as the adapter package.
func Example_adapterRollout() {
	procs := adapter.NewFallbackAdapter(adapter.Options{
		DisableSysprims:  false, // 1. sysprims by default, behind a feature flag
		FallbackToLegacy: true,  // 2. legacy for safe-to-degrade errors only
		Metrics: adapter.MetricsFunc(func(e adapter.Event) { // 3. monitor
			log.Infof("%s via %s: reliability=%s escalated=%v warnings=%d err=%v",
				e.Op, e.Backend, e.TreeKillReliability, e.Escalated, len(e.Warnings), e.Err)
		}),
	})

	var a adapter.ProcessAdapter = procs
	res, err := a.SpawnInGroup(sysprims.SpawnInGroupConfig{Argv: []string{"sleep", "1000"}})
	if err != nil {
		panic(err)
	}
	record := adapter.RecordFromSpawn(res)
	same, _ := record.VerifyIdentity()
	fmt.Println("verified:", same)

	outcome, err := a.TerminateTree(res.PID, sysprims.TerminateTreeConfig{})
	fmt.Println("exited:", outcome.Exited, err)
	same, _ = record.VerifyIdentity()
	fmt.Println("verified after stop:", same)
	// Output:
	// verified: true
	// exited: true <nil>
	// verified after stop: false
}
