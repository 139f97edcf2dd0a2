package adapter

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"sysprims.dev/sysprims"
)

// LegacyAdapter is the [ProcessAdapter] most supervisors hand-write today, on os/exec and
// syscall only: a process group per job (Setpgid), kill(-pgid) for the whole group, and
// graceful-then-kill timed in Go. It is the fallback of [FallbackAdapter] and the baseline
// sysprims is measured against.
//
// Its limits, which its results state (TreeKillReliability "best_effort" and a warning):
// processes that leave the group (setsid, double forks) are not reached; it waits for the
// group leader only; and a PID it did not spawn is watched by polling kill(pid, 0).
//
// Its zero value is ready to use; use it by pointer, from any number of goroutines. It reaps
// the jobs it spawns, as [SysprimsAdapter] does.
type LegacyAdapter struct {
	// PollInterval is how often a PID this adapter did not spawn is checked while waiting for
	// it to exit (default 10 ms). Jobs it spawned are waited for without polling.
	PollInterval time.Duration

	jobs jobTable[legacyJob]
}

type legacyJob struct {
	cmd    *exec.Cmd
	done   chan struct{}
	result *sysprims.WaitPIDResult
}

var _ ProcessAdapter = (*LegacyAdapter)(nil)

// legacyWarning is on every legacy spawn and termination result.
const legacyWarning = "legacy adapter: process group only (os/exec with Setpgid, kill(-pgid)); " +
	"processes that call setsid or double-fork leave the group and are not reached, and only " +
	"the group leader is waited for"

// GetProcess reads /proc/<pid>/stat, exe and cmdline, as hand-written supervisors (and
// gopsutil) do. The start time is the boot time from /proc/stat plus the start in clock
// ticks (USER_HZ, 100 on Linux). Fields it does not read are zero. Linux only: elsewhere
// ErrNotSupported.
func (a *LegacyAdapter) GetProcess(pid uint32) (*ProcessInfo, error) {
	const op = "LegacyAdapter.GetProcess"
	if err := checkPID(op, pid); err != nil {
		return nil, err
	}
	if runtime.GOOS != "linux" {
		return nil, &sysprims.Error{Code: sysprims.CodeNotSupported, Op: op, Message: "the legacy adapter reads /proc, which only Linux has"}
	}
	dir := "/proc/" + strconv.FormatUint(uint64(pid), 10)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return nil, osError(op, pid, err)
	}
	info, startTicks, err := parseStat(stat)
	if err != nil {
		return nil, &sysprims.Error{Code: sysprims.CodeSystem, Op: op, Message: err.Error()}
	}
	if btime, err := bootTimeSecs(); err == nil {
		ms := btime*1000 + startTicks*10
		info.StartTimeUnixMS = &ms
		info.StartTimeUnixMs = &ms
	}
	if exe, err := os.Readlink(dir + "/exe"); err == nil {
		exe = strings.TrimSuffix(exe, " (deleted)")
		info.ExePath = &exe
	}
	if raw, err := os.ReadFile(dir + "/cmdline"); err == nil && len(raw) > 0 {
		info.Cmdline = strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
	}
	return info, nil
}

// SpawnInGroup starts the job with os/exec in a new process group (Setpgid). Stdio, Cwd,
// Env, EnvClear and KillOnParentDeath (Pdeathsig) are honoured; ContainmentCgroup is
// ErrNotSupported and CgroupParent is ignored.
func (a *LegacyAdapter) SpawnInGroup(config SpawnInGroupConfig) (*SpawnInGroupResult, error) {
	const op = "LegacyAdapter.SpawnInGroup"
	if len(config.Argv) == 0 {
		return nil, &sysprims.Error{Code: sysprims.CodeInvalidArgument, Op: op, Message: "empty argv: there is no program to run"}
	}
	if config.Containment == sysprims.ContainmentCgroup {
		return nil, &sysprims.Error{Code: sysprims.CodeNotSupported, Op: op, Message: "the legacy adapter cannot put a job in a cgroup"}
	}
	cmd := exec.Command(config.Argv[0], config.Argv[1:]...)
	cmd.Dir = config.Cwd
	if len(config.Env) > 0 || config.EnvClear {
		var env []string
		if !config.EnvClear {
			env = os.Environ()
		}
		for k, v := range config.Env {
			env = append(env, k+"="+v)
		}
		cmd.Env = env
	}
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	streams := []struct {
		cfg     sysprims.Stdio
		inherit *os.File
		input   bool
	}{{config.Stdin, os.Stdin, true}, {config.Stdout, os.Stdout, false}, {config.Stderr, os.Stderr, false}}
	var files [3]*os.File
	for i, s := range streams {
		switch s.cfg.Kind() {
		case "inherit":
			files[i] = s.inherit
		case "null":
			files[i] = nil // os/exec connects /dev/null
		case "file":
			flags := os.O_RDONLY
			if !s.input {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
				if s.cfg.Append() {
					flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
				}
			}
			f, err := os.OpenFile(s.cfg.Path(), flags, 0o666)
			if err != nil {
				return nil, &sysprims.Error{Code: sysprims.CodeSpawnFailed, Op: op, Message: err.Error()}
			}
			opened = append(opened, f)
			files[i] = f
		}
	}
	if files[0] != nil {
		cmd.Stdin = files[0]
	}
	if files[1] != nil {
		cmd.Stdout = files[1]
	}
	if files[2] != nil {
		cmd.Stderr = files[2]
	}
	attr, err := legacyProcAttr(config.KillOnParentDeath)
	if err != nil {
		return nil, &sysprims.Error{Code: sysprims.CodeNotSupported, Op: op, Message: err.Error()}
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return nil, &sysprims.Error{Code: sysprims.CodeSpawnFailed, Op: op, Message: fmt.Sprintf("cannot start %q: %v", config.Argv[0], err)}
	}
	pid := uint32(cmd.Process.Pid)
	job := &legacyJob{cmd: cmd, done: make(chan struct{})}
	a.jobs.put(pid, job)
	go func() {
		// Wait reaps the child; its status becomes the job's result.
		err := cmd.Wait()
		job.result = waitResult(pid, cmd.ProcessState, err)
		close(job.done)
	}()
	res := &SpawnInGroupResult{
		PID:                 pid,
		PGID:                legacyPGID(pid),
		Identity:            sysprims.ProcessIdentity{PID: pid},
		TreeKillReliability: sysprims.ReliabilityBestEffort,
		Containment:         sysprims.ContainmentKindProcessGroup,
		Warnings:            []string{legacyWarning},
	}
	if info, err := a.GetProcess(pid); err == nil {
		res.Identity.StartTimeUnixMS = info.StartTimeUnixMS
	}
	return res, nil
}

// TerminateTree sends config.Signal to the process group pid leads (to pid alone when it
// leads none, with a warning), waits up to the grace period for pid to exit, then sends
// config.KillSignal to the group and waits up to the kill timeout. PID 1, this program and
// its own group are refused unless AllowProtected; RequireStartTimeMS and RequireExePath
// are checked first (ErrNotFound on mismatch, nothing signalled).
func (a *LegacyAdapter) TerminateTree(pid uint32, config TerminateTreeConfig) (*TerminateTreeResult, error) {
	const op = "LegacyAdapter.TerminateTree"
	start := time.Now()
	if err := checkPID(op, pid); err != nil {
		return nil, err
	}
	sig := syscall.Signal(config.Signal)
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	killSig := syscall.Signal(config.KillSignal)
	if killSig == 0 {
		killSig = syscall.SIGKILL
	}
	self := os.Getpid()
	if !config.AllowProtected && (pid == 1 || int(pid) == self) {
		return nil, &sysprims.Error{Code: sysprims.CodeInvalidArgument, Op: op, Message: fmt.Sprintf("refusing to terminate protected process %d (PID 1 or the caller) without AllowProtected", pid)}
	}
	job := a.jobs.get(pid)
	if job != nil {
		select {
		case <-job.done:
			return nil, exitedError(op, pid)
		default:
		}
	}
	if config.RequireStartTimeMS != nil || config.RequireExePath != nil {
		info, err := a.GetProcess(pid)
		if err != nil {
			return nil, err
		}
		if config.RequireStartTimeMS != nil && (info.StartTimeUnixMS == nil || *info.StartTimeUnixMS != *config.RequireStartTimeMS) ||
			config.RequireExePath != nil && (info.ExePath == nil || *info.ExePath != *config.RequireExePath) {
			return nil, &sysprims.Error{Code: sysprims.CodeNotFound, Op: op, Message: fmt.Sprintf("process %d is not the one the guard describes (PID reused): nothing signalled", pid)}
		}
	}
	res := &TerminateTreeResult{
		PID:                 pid,
		SignalSent:          int(sig),
		KillSignal:          int(killSig),
		TreeKillReliability: sysprims.ReliabilityBestEffort,
		Warnings:            []string{legacyWarning},
	}
	// The target: the group pid leads, else pid alone.
	target, warning, err := legacyTarget(op, pid, config.AllowProtected)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		res.Warnings = append(res.Warnings, warning)
	}
	if err := legacyKill(target, sig); err != nil {
		return nil, errnoError(op, pid, err)
	}
	res.Signalled = 1
	exited := a.waitExit(pid, job, time.Duration(orDefault(config.GraceTimeoutMS, defaultGraceMS))*time.Millisecond)
	if !exited {
		res.Escalated = true
		if err := legacyKill(target, killSig); err != nil && !errors.Is(err, syscall.ESRCH) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("kill(%d, %d): %v", target, killSig, err))
		}
		exited = a.waitExit(pid, job, time.Duration(orDefault(config.KillTimeoutMS, defaultKillMS))*time.Millisecond)
	}
	res.Exited = exited
	if !exited {
		res.TimedOut = true
		res.Survivors = []uint32{pid}
	}
	res.ElapsedMS = uint64(time.Since(start).Milliseconds())
	return res, nil
}

// Wait blocks until the job pid (spawned by this adapter) has exited and returns how it
// ended; the job is then forgotten. Call it once per job, also after TerminateTree, to
// release the job's record. A PID this adapter did not spawn (or already waited for) is
// ErrNotFound.
func (a *LegacyAdapter) Wait(pid uint32) (*WaitPIDResult, error) {
	job := a.jobs.get(pid)
	if job == nil {
		return nil, notOursError("LegacyAdapter.Wait", pid)
	}
	<-job.done
	a.jobs.remove(pid, job)
	return job.result, nil
}

func (a *LegacyAdapter) owns(pid uint32) bool { return a.jobs.get(pid) != nil }

// waitExit waits up to d for pid to exit: for its own job through cmd.Wait, for any other
// PID by polling legacyGone (kill(pid, 0) on Unix).
func (a *LegacyAdapter) waitExit(pid uint32, job *legacyJob, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	if job != nil {
		select {
		case <-job.done:
			return true
		case <-timer.C:
			return false
		}
	}
	interval := a.PollInterval
	if interval <= 0 {
		interval = 10 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if legacyGone(pid) {
			return true
		}
		select {
		case <-tick.C:
		case <-timer.C:
			return legacyGone(pid)
		}
	}
}

func waitResult(pid uint32, state *os.ProcessState, err error) *WaitPIDResult {
	res := &WaitPIDResult{PID: pid, Exited: true}
	if state == nil {
		res.Exited = false
		res.Warnings = []string{fmt.Sprintf("wait: %v", err)}
		return res
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Exited():
			code := int32(ws.ExitStatus())
			res.ExitCode = &code
		case ws.Signaled():
			sig := int32(ws.Signal())
			res.Signal = &sig
		}
	}
	return res
}

func checkPID(op string, pid uint32) error {
	if pid == 0 || pid > math.MaxInt32 {
		return &sysprims.Error{Code: sysprims.CodeInvalidArgument, Op: op, Message: fmt.Sprintf("invalid PID %d: PIDs are 1 to %d", pid, math.MaxInt32)}
	}
	return nil
}

func errnoError(op string, pid uint32, err error) error {
	code := sysprims.CodeSystem
	switch {
	case errors.Is(err, syscall.ESRCH), errors.Is(err, os.ErrNotExist):
		code = sysprims.CodeNotFound
	case errors.Is(err, syscall.EPERM), errors.Is(err, os.ErrPermission):
		code = sysprims.CodePermissionDenied
	}
	return &sysprims.Error{Code: code, Op: op, Message: fmt.Sprintf("process %d: %v", pid, err)}
}

func osError(op string, pid uint32, err error) error { return errnoError(op, pid, err) }

// parseStat reads /proc/<pid>/stat: the name sits in parentheses and may itself contain
// spaces and parentheses, so the fields after it are found from the last ')'.
func parseStat(stat []byte) (*ProcessInfo, uint64, error) {
	open := bytes.IndexByte(stat, '(')
	end := bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return nil, 0, errors.New("malformed /proc stat")
	}
	pid, err := strconv.ParseUint(string(bytes.TrimSpace(stat[:open])), 10, 32)
	if err != nil {
		return nil, 0, err
	}
	fields := strings.Fields(string(stat[end+1:]))
	// fields[0] is the state (field 3); field N is fields[N-3].
	if len(fields) < 20 {
		return nil, 0, errors.New("short /proc stat")
	}
	num := func(i int) uint64 { v, _ := strconv.ParseUint(fields[i-3], 10, 64); return v }
	info := &ProcessInfo{
		PID:  uint32(pid),
		Name: string(stat[open+1 : end]),
		PPID: uint32(num(4)),
		PGID: uint32(num(5)),
		SID:  uint32(num(6)),
	}
	return info, num(22), nil
}

var (
	btimeOnce sync.Once
	btime     uint64
	btimeErr  error
)

func bootTimeSecs() (uint64, error) {
	btimeOnce.Do(func() {
		data, err := os.ReadFile("/proc/stat")
		if err != nil {
			btimeErr = err
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "btime "); ok {
				btime, btimeErr = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				return
			}
		}
		btimeErr = errors.New("no btime in /proc/stat")
	})
	return btime, btimeErr
}
