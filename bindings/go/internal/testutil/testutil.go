//go:build linux

// Package testutil holds what the tests of sysprims and its adapter share: capability
// checks that skip (or fail under SYSPRIMS_REQUIRE_ALL=1), processes tracked through pidfds so
// that cleanup can never hit a reused PID, markers to count leaked processes by, and /proc and
// cgroup probes. It uses syscall only, never the package under test, so that a bug there
// cannot hide from the checks.
package testutil

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Linux system call numbers and constants the syscall package lacks (the same on amd64 and
// arm64, as for every system call added after the generic table was unified).
const (
	sysPidfdSendSignal = 424
	sysPidfdOpen       = 434
	pPidfd             = 3
)

// RequireAll reports whether SYSPRIMS_REQUIRE_ALL=1: a missing capability is then a failure.
func RequireAll() bool { return os.Getenv("SYSPRIMS_REQUIRE_ALL") == "1" }

// Need skips the test with why unless ok; under SYSPRIMS_REQUIRE_ALL=1 it fails instead.
func Need(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if RequireAll() {
		t.Fatalf("missing capability (SYSPRIMS_REQUIRE_ALL=1): %s", why)
	}
	t.Skipf("skipped: %s (set SYSPRIMS_REQUIRE_ALL=1 to make this a failure)", why)
}

// Cgroup2Mount returns the cgroup v2 mount point, from /proc/self/mountinfo.
func Cgroup2Mount() (string, bool) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if f := strings.Fields(pre); len(f) >= 5 {
			return f[4], true
		}
	}
	return "", false
}

// OwnCgroupDir returns this process's cgroup v2 directory (the 0:: line of /proc/self/cgroup
// under the mount).
func OwnCgroupDir() (string, bool) {
	mount, ok := Cgroup2Mount()
	if !ok {
		return "", false
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rel, ok := strings.CutPrefix(line, "0::"); ok {
			return filepath.Join(mount, rel), true
		}
	}
	return "", false
}

// CgroupWritable reports whether jobs can get cgroups here: root, a cgroup v2 mount, an own
// cgroup directory that is writable and has cgroup.kill.
func CgroupWritable() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "not root"
	}
	dir, ok := OwnCgroupDir()
	if !ok {
		return false, "no cgroup v2 mount"
	}
	if err := syscall.Access(dir, 2 /* W_OK */); err != nil {
		return false, fmt.Sprintf("own cgroup %s is not writable: %v", dir, err)
	}
	probe, err := os.MkdirTemp(dir, "sysprims-gotest-probe-")
	if err != nil {
		return false, fmt.Sprintf("cannot make a cgroup under %s: %v", dir, err)
	}
	defer os.Remove(probe)
	if _, err := os.Stat(filepath.Join(probe, "cgroup.kill")); err != nil {
		return false, "cgroup v2 without cgroup.kill (Linux 5.14+)"
	}
	return true, ""
}

// JobCgroups lists this process's job cgroups (sysprims-job-<pid>-<n> under its own cgroup).
func JobCgroups() []string {
	dir, ok := OwnCgroupDir()
	if !ok {
		return nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("sysprims-job-%d-*", os.Getpid())))
	return matches
}

// Marker returns a unique string for command lines, to count leaked processes by.
func Marker(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "sysprims-gotest-" + hex.EncodeToString(b[:])
}

// MarkedSleep returns the path of a symlink to sleep(1) whose name carries marker: every
// process started through it has the marker in its command line (argv[0]).
func MarkedSleep(t testing.TB, marker string) string {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), marker)
	if err := os.Symlink(sleep, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// CountMarked counts the live (non-zombie) processes whose command line contains marker.
func CountMarked(marker string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		if State(pid) != 'Z' {
			n++
		}
	}
	return n
}

// KillMarked sends SIGKILL to every live process whose command line contains marker, each
// through a pidfd opened before its command line is checked again, so a reused PID is never
// hit. For cleanups after a test that may have failed.
func KillMarked(marker string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := Hold(pid)
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmdline, []byte(marker)) {
			p.Signal(syscall.SIGKILL)
		}
		p.Close()
	}
}

// State returns the state letter of /proc/<pid>/stat, or 0 when there is no such process.
func State(pid int) byte {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}

// StatField returns field n (1-based, as in proc(5)) of /proc/<pid>/stat.
func StatField(pid, n int) (string, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	i := bytes.LastIndexByte(data, ')')
	f := strings.Fields(string(data[i+1:]))
	if n < 3 || n-3 >= len(f) {
		return "", false
	}
	return f[n-3], true
}

// Children returns the PIDs of this process's children (zombies included), from
// /proc/self/task/*/children.
func Children() map[int]bool {
	out := map[int]bool{}
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, path := range tasks {
		data, _ := os.ReadFile(path)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				out[pid] = true
			}
		}
	}
	return out
}

// OpenFDs counts this process's open file descriptors.
func OpenFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// Proc is a process held by a pidfd: signals through it reach that process or nothing, even
// after its PID is reused.
type Proc struct {
	// PID is the process's ID (for messages: signal through the Proc).
	PID   int
	pidfd int
}

// Track opens a pidfd for pid and registers a cleanup that kills it (and, while its PID
// cannot have been reused, its process group and its job cgroup) and reaps it if it is this
// process's child. Call it right after the spawn, while pid is an unreaped child (so it names
// the process meant).
func Track(t testing.TB, pid int, cgroup string) *Proc {
	t.Helper()
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		t.Fatalf("pidfd_open(%d): %v", pid, errno)
	}
	p := &Proc{PID: pid, pidfd: int(fd)}
	syscall.CloseOnExec(p.pidfd)
	t.Cleanup(func() { p.Destroy(cgroup) })
	return p
}

// Hold opens a pidfd for pid without a test (for goroutines that may not call t.Fatal).
// Destroy the Proc when done.
func Hold(pid int) (*Proc, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return nil, fmt.Errorf("pidfd_open(%d): %w", pid, errno)
	}
	syscall.CloseOnExec(int(fd))
	return &Proc{PID: pid, pidfd: int(fd)}, nil
}

// OpenPidfd holds any process (not necessarily a child) by a pidfd, closed at cleanup.
func OpenPidfd(t testing.TB, pid int) *Proc {
	t.Helper()
	p, err := Hold(pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		syscall.Close(p.pidfd)
	})
	return p
}

// Close releases the pidfd (without signalling or reaping).
func (p *Proc) Close() { syscall.Close(p.pidfd) }

// StartUnixMS is a process's start time as sysprims reports it: the boot time plus the start
// in clock ticks (USER_HZ 100), from /proc/stat and /proc/<pid>/stat.
func StartUnixMS(pid int) (uint64, bool) {
	ticks, ok := StatField(pid, 22)
	if !ok {
		return 0, false
	}
	start, err := strconv.ParseUint(ticks, 10, 64)
	if err != nil {
		return 0, false
	}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			btime, err := strconv.ParseUint(v, 10, 64)
			return btime*1000 + start*10, err == nil
		}
	}
	return 0, false
}

// Signal sends sig through the pidfd; false once the process has exited.
func (p *Proc) Signal(sig syscall.Signal) bool {
	_, _, errno := syscall.Syscall6(sysPidfdSendSignal, uintptr(p.pidfd), uintptr(sig), 0, 0, 0, 0)
	return errno == 0
}

// Exited reports whether the process has exited (a zombie counts), without waiting: a pidfd
// polls readable once its process has exited.
func (p *Proc) Exited() bool { return p.WaitExit(0) }

// WaitExit waits up to d for the process to exit (a zombie counts) and reports whether it
// did, through poll(2) on the pidfd: no polling loop.
func (p *Proc) WaitExit(d time.Duration) bool {
	type pollFd struct {
		fd      int32
		events  int16
		revents int16
	}
	pfd := pollFd{fd: int32(p.pidfd), events: 0x1 /* POLLIN */}
	ms := int(d / time.Millisecond)
	for {
		n, _, errno := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(ms))
		if errno == syscall.EINTR {
			continue
		}
		return errno == 0 && n == 1
	}
}

// Reaped reports whether this process's child has been reaped (by anyone), leaving its PID
// free for reuse.
func (p *Proc) Reaped() bool {
	var info [128]byte
	_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPidfd, uintptr(p.pidfd), uintptr(unsafe.Pointer(&info[0])),
		syscall.WEXITED|syscall.WNOHANG|0x01000000 /* WNOWAIT */, 0, 0)
	return errno == syscall.ECHILD
}

// Reap waits for and reaps this process's child; false if someone else reaped it.
func (p *Proc) Reap() bool {
	var info [128]byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPidfd, uintptr(p.pidfd), uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		return errno == 0
	}
}

// Destroy kills the process, its job cgroup (when given) and, while its PID is provably
// still its own, its process group; then reaps it and removes the cgroup.
func (p *Proc) Destroy(cgroup string) {
	if cgroup != "" {
		KillCgroup(cgroup)
	}
	if !p.Reaped() {
		// An unreaped child keeps its PID, so the group with that ID is its group.
		if pgid, err := syscall.Getpgid(p.PID); err == nil && pgid == p.PID {
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		p.Signal(syscall.SIGKILL)
		p.Reap()
	}
	syscall.Close(p.pidfd)
	if cgroup != "" {
		RemoveCgroup(cgroup)
	}
}

// KillChildren kills the children of pid, a live process (its children's PIDs cannot be
// reused while they are its children): each is opened as a pidfd and checked to be pid's
// child still before it is signalled through the pidfd.
func KillChildren(pid int) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, path := range tasks {
		data, _ := os.ReadFile(path)
		for _, f := range strings.Fields(string(data)) {
			child, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			p, err := Hold(child)
			if err != nil {
				continue
			}
			if ppid, ok := StatField(child, 4); ok && ppid == strconv.Itoa(pid) {
				p.Signal(syscall.SIGKILL)
			}
			p.Close()
		}
	}
}

// KillCgroup kills every process in a cgroup through cgroup.kill.
func KillCgroup(dir string) {
	os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
}

// RemoveCgroup waits (up to 10 s, on inotify events of cgroup.events) until the cgroup is
// empty and removes it. A cgroup already gone is fine.
func RemoveCgroup(dir string) {
	events := filepath.Join(dir, "cgroup.events")
	in, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		os.Remove(dir)
		return
	}
	defer syscall.Close(in)
	if _, err := syscall.InotifyAddWatch(in, events, syscall.IN_MODIFY); err != nil {
		return // already gone
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !populated(events) {
			break
		}
		var fds syscall.FdSet
		fds.Bits[in/64] |= 1 << (uint(in) % 64)
		tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
		syscall.Select(in+1, &fds, nil, nil, &tv)
		var buf [4096]byte
		syscall.Read(in, buf[:])
	}
	os.Remove(dir)
}

func populated(events string) bool {
	f, err := os.Open(events)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == "populated 1" {
			return true
		}
	}
	return false
}

// Fifo makes a named pipe in a temporary directory and returns its path.
func Fifo(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// ReadFifo opens the fifo for reading (which waits for a writer) and returns everything
// written to it until the writers close it. It fails the test after timeout, so that a
// child that never writes cannot hang the suite.
func ReadFifo(t testing.TB, path string, timeout time.Duration) string {
	t.Helper()
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := os.ReadFile(path)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return string(r.data)
	case <-time.After(timeout):
		// Unblock the reader by opening the write end ourselves.
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("nothing was written to %s within %v", path, timeout)
		return ""
	}
}

// ReadyPIDs parses whitespace-separated PIDs (as a child writes "$$ $!" to a fifo).
func ReadyPIDs(t testing.TB, text string) []int {
	t.Helper()
	var out []int
	for _, f := range strings.Fields(text) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("not a PID: %q in %q", f, text)
		}
		out = append(out, pid)
	}
	if len(out) == 0 {
		t.Fatalf("no PIDs in %q", text)
	}
	return out
}
