package adapter

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"sysprims.dev/sysprims"
)

// SysprimsAdapter is the production [ProcessAdapter]: every call goes to sysprims. Its zero
// value is ready to use; use it by pointer, from any number of goroutines.
//
// It owns the jobs it spawns: a goroutine per job waits for the job's first process
// (sysprims.WaitPIDContext, which also removes the job's cgroup once the job is empty) so that
// no zombie is left, and TerminateTree on such a job
//   - refuses with ErrNotFound once the job has exited and been reaped, because its PID may
//     have been reused;
//   - pauses that wait while it runs, so the PID cannot be reaped and reused under it;
//   - guards the call with the job's start time (TerminateTreeConfig.RequireStartTimeMS),
//     unless the caller set a guard;
//   - returns after the job is reaped.
//
// PIDs it did not spawn are passed to sysprims as they are. For any PID, a termination that
// could signal nothing and left the tree running is ErrPermissionDenied (see
// deniedIfNothingSignalled), so that the fallback the guide describes happens.
type SysprimsAdapter struct {
	jobs jobTable[sysprimsJob]
}

type sysprimsJob struct {
	pid      uint32
	identity sysprims.ProcessIdentity

	// mu is held by TerminateTree for the whole termination; the reaper waits only while it
	// is not held.
	mu     sync.Mutex
	cancel context.CancelFunc // ends the reaper's current wait; nil when it is not waiting
	paused chan struct{}      // the reaper signals here when a cancelled wait has returned

	done   chan struct{} // closed when the job has been reaped
	result *sysprims.WaitPIDResult
	err    error
}

var _ ProcessAdapter = (*SysprimsAdapter)(nil)

// GetProcess is sysprims.ProcessGet.
func (a *SysprimsAdapter) GetProcess(pid uint32) (*ProcessInfo, error) {
	return sysprims.ProcessGet(pid)
}

// SpawnInGroup is sysprims.SpawnInGroup; the adapter then reaps the job when it exits.
func (a *SysprimsAdapter) SpawnInGroup(config SpawnInGroupConfig) (*SpawnInGroupResult, error) {
	res, err := sysprims.SpawnInGroup(config)
	if err != nil {
		return nil, err
	}
	job := &sysprimsJob{pid: res.PID, identity: res.Identity, paused: make(chan struct{}), done: make(chan struct{})}
	a.jobs.put(res.PID, job)
	go job.reap()
	return res, nil
}

// reap waits for the job to exit and reaps it, standing aside while a TerminateTree runs.
func (j *sysprimsJob) reap() {
	for {
		j.mu.Lock()
		ctx, cancel := context.WithCancel(context.Background())
		j.cancel = cancel
		j.mu.Unlock()
		res, err := sysprims.WaitPIDContext(ctx, j.pid, sysprims.NoTimeout)
		cancel()
		if errors.Is(err, context.Canceled) {
			// A TerminateTree took over: let it know, then wait until it is done.
			j.paused <- struct{}{}
			continue
		}
		j.result, j.err = res, err
		close(j.done)
		return
	}
}

// TerminateTree is sysprims.TerminateTree, with the guards above for jobs this adapter
// spawned.
func (a *SysprimsAdapter) TerminateTree(pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error) {
	job := a.jobs.get(pid)
	if job == nil {
		return deniedIfNothingSignalled(sysprims.TerminateTree(pid, config))
	}
	job.mu.Lock()
	gone := false
	if job.cancel != nil {
		// The reaper is waiting: stop that wait, and wait until it has returned.
		job.cancel()
		job.cancel = nil
		select {
		case <-job.paused:
		case <-job.done:
			gone = true
		}
	} else {
		// The reaper is not waiting (it waits for mu before its next wait).
		select {
		case <-job.done:
			gone = true
		default:
		}
	}
	if gone {
		// Reaped before the termination began: the PID may name another process now.
		job.mu.Unlock()
		return nil, exitedError("TerminateTree", pid)
	}
	if config.RequireStartTimeMS == nil && config.RequireExePath == nil {
		config.RequireStartTimeMS = job.identity.StartTimeUnixMS
	}
	res, err := deniedIfNothingSignalled(sysprims.TerminateTree(pid, config))
	job.mu.Unlock()
	if err == nil && res.Exited {
		<-job.done
	}
	return res, err
}

// deniedIfNothingSignalled turns a termination that could signal nothing and left the tree
// running into ErrPermissionDenied, the error the guide tells supervisors to expect (and to
// fall back on). The library itself returns ErrPermissionDenied when the root may not be
// signalled; this also covers a tree none of whose members could be (a result with
// Signalled 0, survivors and "permission denied" warnings).
func deniedIfNothingSignalled(res *TerminateTreeResult, err error) (*TerminateTreeResult, error) {
	if err != nil || res.Signalled > 0 || res.Exited || len(res.Survivors) == 0 {
		return res, err
	}
	return nil, &sysprims.Error{
		Code:    sysprims.CodePermissionDenied,
		Op:      "TerminateTree",
		Message: "no process of the tree could be signalled: " + strings.Join(res.Warnings, "; "),
	}
}

// Wait blocks until the job pid (spawned by this adapter) has exited, and returns how it
// ended; the job is then forgotten. Call it once per job, also after TerminateTree, to
// release the job's record. A PID this adapter did not spawn (or already waited for) is
// ErrNotFound.
func (a *SysprimsAdapter) Wait(pid uint32) (*WaitPIDResult, error) {
	job := a.jobs.get(pid)
	if job == nil {
		return nil, notOursError("Wait", pid)
	}
	<-job.done
	a.jobs.remove(pid, job)
	return job.result, job.err
}

// A job's record (a few hundred bytes) is kept until Wait collects its status, after a
// TerminateTree too: call Wait once per job.

// owns reports whether pid is a job this adapter spawned and has not forgotten.
func (a *SysprimsAdapter) owns(pid uint32) bool { return a.jobs.get(pid) != nil }

// jobTable maps PIDs to the jobs an adapter spawned.
type jobTable[J any] struct {
	mu   sync.Mutex
	jobs map[uint32]*J
}

func (t *jobTable[J]) put(pid uint32, job *J) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.jobs == nil {
		t.jobs = make(map[uint32]*J)
	}
	t.jobs[pid] = job
}

func (t *jobTable[J]) get(pid uint32) *J {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.jobs[pid]
}

func (t *jobTable[J]) remove(pid uint32, job *J) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.jobs[pid] == job {
		delete(t.jobs, pid)
	}
}

func exitedError(op string, pid uint32) error {
	return &sysprims.Error{
		Code: sysprims.CodeNotFound,
		Op:   op,
		Message: "job " + strconv.FormatUint(uint64(pid), 10) + " has already exited and been reaped; " +
			"its PID may name another process now, so nothing was signalled",
	}
}

func notOursError(op string, pid uint32) error {
	return &sysprims.Error{
		Code:    sysprims.CodeNotFound,
		Op:      op,
		Message: "process " + strconv.FormatUint(uint64(pid), 10) + " was not spawned by this adapter (or was already waited for)",
	}
}
