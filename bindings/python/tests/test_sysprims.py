"""sysprims for Python against real processes: every function, bad input, PID reuse forced in
a PID namespace, a Job ending a setsid grandchild, wait_procs, threads, and the same calls
compared with psutil on the same processes.

Every test ends the processes it started, by their own PIDs. Synchronisation is on events
(pipes, exits), never on sleeps.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import psutil
import pytest

import sysprims

REQUIRE_ALL = os.environ.get("SYSPRIMS_REQUIRE_ALL") == "1"


def require(capability, available):
    """Skip without the capability, unless SYSPRIMS_REQUIRE_ALL=1 makes that a failure."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"SYSPRIMS_REQUIRE_ALL=1 and {capability} is missing")
    pytest.skip(f"needs {capability}")


def alive(pid):
    """Whether `pid` runs (a zombie does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Children:
    """Children started by a test, killed and reaped at the end whatever happened."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def sleeper(self):
        """A child that runs until its stdin closes, then exits with code 0; it has said
        "ready" when this returns."""
        p = self.start(
            [sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"]
        )
        assert p.stdout.readline() == b"ready\n"
        return p

    def stubborn(self):
        """A child that ignores SIGTERM and runs until killed."""
        p = self.start(
            [
                sys.executable,
                "-c",
                "import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); signal.pause()",
            ]
        )
        assert p.stdout.readline() == b"ready\n"
        return p

    def cleanup(self):
        for p in self.procs:
            if p.returncode is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait()
                except ChildProcessError:
                    pass


@pytest.fixture
def children():
    c = Children()
    try:
        yield c
    finally:
        c.cleanup()


def exited_keep_zombie(pid):
    """Wait until the child `pid` has exited, without reaping it."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


# --- Process: reads, compared with psutil --------------------------------------------------


def test_process_reads_match_psutil(children):
    c = children.sleeper()
    ours, theirs = sysprims.Process(c.pid), psutil.Process(c.pid)
    assert ours.pid == theirs.pid == c.pid
    assert ours.ppid() == theirs.ppid() == os.getpid()
    assert ours.name() == theirs.name()
    assert ours.exe() == theirs.exe()
    assert ours.cmdline() == theirs.cmdline()
    assert abs(ours.create_time() - theirs.create_time()) < 0.011
    assert ours.status() in (sysprims.STATUS_SLEEPING, sysprims.STATUS_RUNNING)
    assert ours.username() == theirs.username()
    assert ours.num_threads() == theirs.num_threads()
    assert ours.memory_info().vms == theirs.memory_info().vms
    assert ours.memory_info()._fields[:2] == ("rss", "vms")
    times = ours.cpu_times()
    assert times.user >= 0 and times.system >= 0
    assert ours.is_running() and theirs.is_running()
    assert ours == sysprims.Process(c.pid) and hash(ours) == hash(sysprims.Process(c.pid))
    assert ours.as_dict(["pid", "name"]) == {"pid": c.pid, "name": theirs.name()}
    # A state that holds still, to compare: stopped.
    os.kill(c.pid, signal.SIGSTOP)
    os.waitid(os.P_PID, c.pid, os.WSTOPPED | os.WNOWAIT)
    assert ours.status() == theirs.status() == sysprims.STATUS_STOPPED
    os.kill(c.pid, signal.SIGCONT)
    again = sysprims.Process.from_identity(ours.identity())
    assert again == ours and again.is_running() and again.cmdline() == ours.cmdline()
    with pytest.raises(ValueError):
        sysprims.Process.from_identity({"pid": c.pid})
    ident = ours.identity()
    assert ident["pid"] == c.pid and ident["start_time_unix_ms"] is not None


def test_process_identity_is_the_kernels_as_the_library_takes_it(children):
    # Process(pid) captures its identity itself (stat and the exe link read by path, then
    # checked through its pidfd, whose pidfs inode it takes): every field must be what the
    # kernel says, and what the library's own capture and checks agree with.
    c = children.sleeper()
    ours = sysprims.Process(c.pid)
    ident = ours.identity()
    with open(f"/proc/{c.pid}/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    assert ident["pid"] == c.pid and ident["start_time_boot_ticks"] == ticks
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert ident["boot_id"] == f.read().strip()
    assert ident["exe_path"] == os.readlink(f"/proc/{c.pid}/exe") == psutil.Process(c.pid).exe()
    fd = os.pidfd_open(c.pid)
    try:
        inode = os.fstat(fd).st_ino
    finally:
        os.close(fd)
    if tuple(int(x) for x in os.uname().release.split(".")[:2]) >= (6, 9):
        assert ident["pidfs_inode"] == inode
    # The library's listing computes the same start (to the ms), and its verify accepts it.
    full = {p.pid: p.info for p in sysprims.process_iter(["create_time", "status"])}
    assert ident["start_time_unix_ms"] / 1000 == full[c.pid]["create_time"] == ours.create_time()
    assert abs(ours.create_time() - psutil.Process(c.pid).create_time()) < 0.011
    assert sysprims.Process.from_identity(ident).is_running()
    # The guarded signal compares the pidfs inode with the library's: it is sent.
    ours.terminate()
    assert c.wait(timeout=10) == -signal.SIGTERM
    assert not ours.is_running()


def test_identity_and_exe_after_an_exec_are_the_new_programs_as_in_psutil(children):
    # Process(pid) takes the start time at once and the executable when first needed (as
    # psutil reads exe() on first call): after an exec, exe() and the identity give the new
    # program, and signals still reach the process (its pidfs inode, or start and exe, match).
    r, w = os.pipe()
    c = children.start(
        ["sh", "-c", f'read x; exec "$0" -c "import os; os.write({w}, b\'x\'); input()"', sys.executable],
        pass_fds=(w,),
    )
    os.close(w)
    ours = sysprims.Process(c.pid)
    assert ours.create_time() == sysprims.Process(c.pid).create_time()
    attrs = ["pid", "exe", "cmdline"]
    before = {p.pid: p for p in sysprims.process_iter(attrs)}[c.pid]
    assert before.info["exe"] == os.path.realpath(shutil.which("sh"))
    c.stdin.write(b"go\n")
    c.stdin.flush()
    assert os.read(r, 1) == b"x"
    os.close(r)
    assert ours.exe() == psutil.Process(c.pid).exe() == os.path.realpath(sys.executable)
    assert ours.identity()["exe_path"] == ours.exe()
    # The lean listing reads the link again for a process whose command line changed (it
    # keeps what the last listing read only for an unchanged start, name and command line).
    after = {p.pid: p for p in sysprims.process_iter(attrs)}[c.pid]
    assert after.info["exe"] == ours.exe() and after.info["cmdline"][0] == sys.executable
    # The listing before the exec holds the old executable: it refuses to signal.
    with pytest.raises(sysprims.NoSuchProcess):
        before.send_signal(signal.SIGTERM)
    assert after.is_running()
    assert ours.is_running()
    ours.terminate()
    assert c.wait(timeout=10) == -signal.SIGTERM


def test_long_names_are_completed_from_the_command_line_as_psutil_does(children, tmp_path):
    prog = tmp_path / "a-program-name-longer-than-fifteen"
    shutil.copy("/bin/sleep", prog)
    c = children.start([str(prog), "1000"])
    ours, theirs = sysprims.Process(c.pid), psutil.Process(c.pid)
    assert ours.name() == theirs.name() == "a-program-name-longer-than-fifteen"


def test_children_recursive_finds_the_same_processes_as_psutil(children):
    r, w = os.pipe()
    script = f"sleep 1000 & sh -c 'sleep 1000 & echo $! >/dev/fd/{w}; wait' & wait"
    c = children.start(["sh", "-c", script], pass_fds=(w,))
    os.close(w)
    with os.fdopen(r) as f:
        grandchild = int(f.readline())
    ours = sysprims.Process(c.pid)
    direct = {p.pid for p in ours.children()}
    assert direct == {p.pid for p in psutil.Process(c.pid).children()}
    assert len(direct) == 2
    every = {p.pid for p in ours.children(recursive=True)}
    assert every == {p.pid for p in psutil.Process(c.pid).children(recursive=True)}
    assert grandchild in every and grandchild not in direct
    assert all(isinstance(p, sysprims.Process) for p in ours.children(recursive=True))
    sysprims.terminate_tree(c.pid, grace=5)
    c.wait()


def test_zombie_is_running_and_has_no_executable_as_in_psutil(children):
    c = children.start(["sh", "-c", "read x; exit 4"])
    ours, theirs = sysprims.Process(c.pid), psutil.Process(c.pid)
    c.stdin.close()
    exited_keep_zombie(c.pid)
    assert ours.status() == theirs.status() == sysprims.STATUS_ZOMBIE
    assert ours.is_running() and theirs.is_running()
    with pytest.raises(sysprims.ZombieProcess) as info:
        ours.exe()
    assert info.value.pid == c.pid and isinstance(info.value, sysprims.NoSuchProcess)
    assert ours.wait(timeout=10) == 4
    c.returncode = 4
    assert not ours.is_running()
    assert not theirs.is_running()


def test_an_exited_process_is_no_such_process_everywhere(children):
    c = children.sleeper()
    ours = sysprims.Process(c.pid)
    c.stdin.close()
    c.wait()
    assert not ours.is_running()
    for call in (ours.name, ours.cmdline, ours.status, ours.memory_info, ours.terminate, ours.kill):
        with pytest.raises(sysprims.NoSuchProcess) as info:
            call()
        assert info.value.pid == c.pid
        assert info.value.code == "NotFound"
        assert str(c.pid) in str(info.value)
    with pytest.raises(sysprims.NoSuchProcess):
        ours.send_signal(signal.SIGUSR1)
    # A stored identity, loaded after the process is gone, names nothing.
    stored = sysprims.Process.from_identity(ours.identity())
    assert not stored.is_running()
    with pytest.raises(sysprims.NoSuchProcess):
        stored.terminate()
    # A gone process's wait is None, as psutil's.
    assert ours.wait() is None


def test_no_such_pid_raises_no_such_process():
    pid = max(sysprims.pids()) + 1000
    while sysprims.pid_exists(pid):
        pid += 1000
    with pytest.raises(sysprims.NoSuchProcess) as info:
        sysprims.Process(pid)
    assert info.value.pid == pid and isinstance(info.value, sysprims.Error)
    with pytest.raises(psutil.NoSuchProcess):
        psutil.Process(pid)
    assert not sysprims.pid_exists(pid) and not psutil.pid_exists(pid)


def test_pids_and_pid_exists_and_process_iter(children):
    c = children.sleeper()
    pids = sysprims.pids()
    assert pids == sorted(pids) and os.getpid() in pids and c.pid in pids
    assert sysprims.pid_exists(c.pid) and psutil.pid_exists(c.pid)
    seen = {}
    for p in sysprims.process_iter(["pid", "name", "cmdline", "create_time", "exe", "memory_info"]):
        seen[p.pid] = p
    theirs = {
        p.pid: p.info
        for p in psutil.process_iter(["pid", "name", "cmdline", "create_time", "exe"])
    }
    info = seen[c.pid].info
    assert info["pid"] == c.pid
    for key in ("name", "cmdline", "exe"):
        assert info[key] == theirs[c.pid][key], key
    assert abs(info["create_time"] - theirs[c.pid]["create_time"]) < 0.011
    assert info["memory_info"].vms == psutil.Process(c.pid).memory_info().vms
    # A listed process is the same process as Process(pid) (same start time, to the ms).
    assert seen[c.pid] == sysprims.Process(c.pid)
    assert seen[c.pid].name() == info["name"] and seen[c.pid].is_running()
    threads = {p.pid: p.info for p in sysprims.process_iter(["num_threads", "username"])}
    assert threads[c.pid] == {"num_threads": 1, "username": psutil.Process(c.pid).username()}
    lean = {p.pid: p.info for p in sysprims.process_iter(["num_threads", "status", "ppid"])}
    assert lean[c.pid]["num_threads"] == 1 and lean[c.pid]["ppid"] == os.getpid()
    me = seen[os.getpid()]
    assert me.info["cmdline"] == psutil.Process().cmdline()
    # Without attrs: processes without info.
    assert any(p.pid == c.pid for p in sysprims.process_iter())


def _settled_cmdline(pid):
    """Reread /proc/PID/cmdline while execve leaves it empty (bounded: a live process whose
    exec finished always has a non-empty one)."""
    for _ in range(100_000):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if f.read():
                return
        os.sched_yield()
    raise AssertionError(f"process {pid} never showed a command line")


def test_lean_process_iter_matches_the_full_listing_and_guards_signals(children, tmp_path):
    # process_iter with only pid/ppid/name/exe/cmdline/create_time reads just stat, the exe
    # link and cmdline; its values and the identity of its objects must be the full
    # listing's, and its objects must be signalled only while they are the stored process.
    c = children.sleeper()
    # A name the kernel cuts at 15 bytes, completed from the command line.
    exe = tmp_path / "a-name-longer-than-fifteen"
    shutil.copy(shutil.which("sleep"), exe)
    long_name = children.start([str(exe), "1000"])
    # Popen returns once the exec has begun; the kernel sets up the new command line a moment
    # later (an empty /proc/PID/cmdline until then), so wait for it before comparing listings.
    for pid in (c.pid, long_name.pid):
        _settled_cmdline(pid)
    attrs = ["pid", "ppid", "name", "exe", "cmdline", "create_time"]
    lean = {p.pid: p for p in sysprims.process_iter(attrs)}
    full = {p.pid: p.info for p in sysprims.process_iter(attrs + ["status"])}
    theirs = {p.pid: p.info for p in psutil.process_iter(attrs)}
    for pid in (c.pid, long_name.pid, os.getpid()):
        info = lean[pid].info
        assert set(info) == set(attrs)
        for key in attrs:
            assert info[key] == full[pid][key], (pid, key)
        for key in ("pid", "ppid", "name", "exe", "cmdline"):
            assert info[key] == theirs[pid][key], (pid, key)
        assert lean[pid] == sysprims.Process(pid)
        assert lean[pid].identity()["start_time_unix_ms"] == sysprims.Process(pid).identity()[
            "start_time_unix_ms"
        ]
    assert lean[long_name.pid].info["name"] == "a-name-longer-than-fifteen"
    # No attrs: the lean listing, objects without info.
    assert c.pid in {p.pid for p in sysprims.process_iter()}
    listed = lean[long_name.pid]
    listed.terminate()
    assert long_name.wait(timeout=10) == -signal.SIGTERM
    # Reaped: the listed object now refuses to signal whatever has the PID.
    with pytest.raises(sysprims.NoSuchProcess):
        listed.kill()
    assert not listed.is_running()


def test_lean_listing_of_many_processes_is_complete_in_order_and_as_the_full_one():
    # Enough processes for the lean listing to split its blocks of PIDs between threads:
    # every sleeper is listed once, in PID order, with what the library's full listing and
    # psutil say of it.
    n = 400
    r, w = os.pipe()
    os.set_inheritable(w, True)
    script = f"i=0; while [ $i -lt {n} ]; do sleep 1000 & i=$((i+1)); done; echo ready >/dev/fd/{w}; wait"
    job = sysprims.spawn_in_group(["sh", "-c", script], stdout="null", grace=1)
    os.close(w)
    try:
        with os.fdopen(r) as f:
            assert f.readline() == "ready\n"
        sleepers = {p.pid for p in sysprims.Process(job.pid).children()}
        assert len(sleepers) == n
        # "ready" follows the forks, not the execs: until its exec is through, a sleeper is
        # still the shell, or has an empty command line. Read each until it is `sleep`.
        deadline = time.monotonic() + 30
        for pid in sleepers:
            while True:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read() == b"sleep\x001000\x00":
                        break
                assert time.monotonic() < deadline, f"sleeper {pid} never ran sleep"
        attrs = ["pid", "name", "cmdline", "create_time", "exe"]
        lean = list(sysprims.process_iter(attrs))
        pids = [p.pid for p in lean]
        assert pids == sorted(set(pids))
        assert sleepers <= set(pids)
        full = {p.pid: p.info for p in sysprims.process_iter(attrs + ["status"])}
        theirs = {p.pid: p.info for p in psutil.process_iter(attrs)}
        # Listed again: the executables the first listing read are kept for the processes
        # whose start, name and command line are unchanged; the same answers.
        again = {p.pid: p.info for p in sysprims.process_iter(attrs)}
        assert all(again[p.pid] == p.info for p in lean if p.pid in sleepers)
        for p in lean:
            if p.pid in sleepers:
                assert p.info == {k: full[p.pid][k] for k in attrs}, p.pid
                assert p.info["cmdline"] == theirs[p.pid]["cmdline"] == ["sleep", "1000"]
                assert p.info["exe"] == theirs[p.pid]["exe"]
                assert abs(p.info["create_time"] - theirs[p.pid]["create_time"]) < 0.011
    finally:
        job.kill()
        job.wait(timeout=30)


def test_exe_is_cached_from_its_first_answer_as_in_psutil(children):
    c = children.start(["sh", "-c", "read x; exit 4"])
    ours, theirs = sysprims.Process(c.pid), psutil.Process(c.pid)
    assert ours.exe() == theirs.exe()
    c.stdin.close()
    exited_keep_zombie(c.pid)
    # A zombie's executable is gone, but both libraries answer from their cache.
    assert ours.status() == theirs.status() == sysprims.STATUS_ZOMBIE
    assert ours.exe() == theirs.exe()
    assert ours.wait(timeout=10) == 4
    c.returncode = 4


def test_open_files_and_net_connections_match_psutil():
    with tempfile.NamedTemporaryFile("w") as f, socket.socket() as s:
        f.write("x")
        f.flush()
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        ours, theirs = sysprims.Process(os.getpid()), psutil.Process()
        assert f.name in {o.path for o in ours.open_files()}
        mine = [o for o in ours.open_files() if o.path == f.name][0]
        same = [o for o in theirs.open_files() if o.path == f.name][0]
        assert (mine.fd, mine.position, mine.mode) == (same.fd, same.position, same.mode)
        conn = [c for c in ours.net_connections("tcp") if c.laddr and c.laddr.port == port]
        them = [c for c in theirs.net_connections("tcp") if c.laddr and c.laddr.port == port]
        assert len(conn) == 1 and len(them) == 1
        assert conn[0].fd == them[0].fd == s.fileno()
        assert (conn[0].family, conn[0].type, conn[0].status) == (
            them[0].family,
            them[0].type,
            them[0].status,
        ) == (socket.AF_INET, socket.SOCK_STREAM, "LISTEN")
        assert tuple(conn[0].laddr) == tuple(them[0].laddr) == ("127.0.0.1", port)
        listed = sysprims.listening_ports(protocol="tcp", port=port)
        assert len(listed) == 1
        assert listed[0]["local_port"] == port
        assert [h["pid"] for h in listed[0]["processes"]] == [os.getpid()]
        assert listed[0]["processes"][0]["fds"] == [s.fileno()]
        assert sysprims.listening_ports(pid=os.getpid(), protocol="tcp")[0]["local_port"] == port


# --- signals and waits ----------------------------------------------------------------------


def test_signals_and_wait_results_match_psutil(children):
    a, b = children.sleeper(), children.sleeper()
    ours, theirs = sysprims.Process(a.pid), psutil.Process(b.pid)
    with pytest.raises(sysprims.TimeoutExpired) as info:
        ours.wait(timeout=0)
    assert info.value.pid == a.pid and info.value.seconds == 0
    with pytest.raises(psutil.TimeoutExpired):
        theirs.wait(timeout=0)
    ours.send_signal(signal.SIGUSR1)
    theirs.send_signal(signal.SIGUSR1)
    assert ours.wait(timeout=30) == theirs.wait(timeout=30) == -signal.SIGUSR1
    a.returncode = b.returncode = -signal.SIGUSR1
    # The result is kept: a second wait gives it again.
    assert ours.wait() == -signal.SIGUSR1

    c = children.sleeper()
    sysprims.Process(c.pid).send_signal("TERM")
    assert sysprims.Process(c.pid).wait(30) == -signal.SIGTERM
    c.returncode = -15

    d = children.start(["sh", "-c", "read x; exit 5"])
    p = sysprims.Process(d.pid)
    d.stdin.close()
    assert p.wait(30) == 5
    d.returncode = 5

    e = children.sleeper()
    p = sysprims.Process(e.pid)
    p.kill()
    assert p.wait(30) == -signal.SIGKILL
    e.returncode = -9


def test_wait_for_a_non_child_is_none_as_in_psutil(children):
    # The shell starts a sleep and reaps it itself; we are not its parent.
    r, w = os.pipe()
    c = children.start(["sh", "-c", f"sleep 1000 & echo $! >/dev/fd/{w}; wait; read x"], pass_fds=(w,))
    os.close(w)
    with os.fdopen(r) as f:
        grandchild = int(f.readline())
    ours, theirs = sysprims.Process(grandchild), psutil.Process(grandchild)
    ours.terminate()
    # None once its parent has reaped it, as psutil; if the wait sees the zombie first, the
    # status /proc still shows (psutil gives None there).
    assert ours.wait(30) in (None, -signal.SIGTERM)
    assert theirs.wait(30) is None


def test_wait_procs_with_exiting_and_stubborn_processes(children):
    quick = [children.sleeper(), children.sleeper()]
    stubborn = children.stubborn()
    procs = [sysprims.Process(c.pid) for c in quick + [stubborn]]
    for p in procs:
        p.terminate()
    ended = []
    gone, alive_ = sysprims.wait_procs(procs, timeout=1, callback=ended.append)
    assert sorted(p.pid for p in gone) == sorted(c.pid for c in quick)
    assert [p.pid for p in alive_] == [stubborn.pid]
    assert sorted(p.pid for p in ended) == sorted(c.pid for c in quick)
    assert all(p.returncode == -signal.SIGTERM for p in gone)
    for c in quick:
        c.returncode = -15
    assert alive(stubborn.pid)
    alive_[0].kill()
    gone, alive_ = sysprims.wait_procs(alive_, timeout=30)
    assert [p.returncode for p in gone] == [-signal.SIGKILL] and alive_ == []
    stubborn.returncode = -9
    # psutil gives the same split on the same kind of mix.
    q, s = children.sleeper(), children.stubborn()
    ps = [psutil.Process(q.pid), psutil.Process(s.pid)]
    for p in ps:
        p.terminate()
    g, a = psutil.wait_procs(ps, timeout=1)
    assert [p.pid for p in g] == [q.pid] and [p.pid for p in a] == [s.pid]
    q.returncode = -15


def test_threads_call_concurrently(children):
    kids = [children.sleeper() for _ in range(6)]
    procs = [sysprims.Process(c.pid) for c in kids]
    errors = []
    results = {}
    read_all = threading.Barrier(len(procs) + 1)

    def reader(p):
        try:
            try:
                for _ in range(50):
                    assert p.cmdline()[0] == sys.executable
                    assert p.is_running()
                    assert p.ppid() == os.getpid()
            finally:
                read_all.wait()
            results[p.pid] = p.wait()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def lister():
        try:
            for _ in range(5):
                assert os.getpid() in {p.pid for p in sysprims.process_iter(["name"])}
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(p,)) for p in procs]
    threads += [threading.Thread(target=lister) for _ in range(2)]
    for t in threads:
        t.start()
    read_all.wait()
    # Each reader ends up blocked in wait() with the GIL released; ending the children
    # from here proves the GIL is free and every waiter gets its own child's status.
    for i, p in enumerate(procs):
        p.send_signal(signal.SIGUSR1 if i % 2 else signal.SIGUSR2)
    for t in threads:
        t.join()
    assert errors == []
    for i, c in enumerate(kids):
        assert results[c.pid] == -(signal.SIGUSR1 if i % 2 else signal.SIGUSR2)
        c.returncode = results[c.pid]


# --- PID reuse ------------------------------------------------------------------------------

REUSE_SCRIPT = textwrap.dedent(
    """
    import os, signal, subprocess, sys
    import sysprims
    # In a fresh PID namespace: start a process, store it, end and reap it, then make the
    # kernel hand its PID to a newcomer (ns_last_pid), which blocks SIGTERM so a wrong
    # signal would stay visible in its pending set.
    rounds = int(sys.argv[1])
    wrong = 0
    for _ in range(rounds):
        old = subprocess.Popen(["sleep", "1000"])
        stored = sysprims.Process(old.pid)
        old.kill()
        old.wait()
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(old.pid - 1))
        r, w = os.pipe()
        new = subprocess.Popen(
            [sys.executable, "-c",
             "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM]); "
             "os.write(int(sys.argv[1]), b'x'); sys.stdin.read()", str(w)],
            pass_fds=(w,), stdin=subprocess.PIPE)
        os.close(w)
        assert os.read(r, 1) == b"x"
        os.close(r)
        assert new.pid == old.pid, (new.pid, old.pid)
        assert not stored.is_running()
        for call in (stored.terminate, stored.kill, lambda: stored.send_signal(signal.SIGTERM)):
            try:
                call()
                wrong += 1
            except sysprims.NoSuchProcess:
                pass
        for read in (stored.name, stored.exe, stored.cmdline, stored.cpu_times,
                     stored.memory_info, stored.ppid):
            try:
                read()
                wrong += 1
            except sysprims.NoSuchProcess:
                pass
        assert stored.wait(0) is None
        # The stored identity was completed (executable, pidfs inode) only now, after the
        # reuse: the newcomer's executable must not have been taken for the process's.
        if stored.identity()["exe_path"] is not None:
            wrong += 1
        with open(f"/proc/{new.pid}/status") as f:
            pending = [l for l in f if l.startswith("ShdPnd:") or l.startswith("SigPnd:")]
        if any(int(l.split()[1], 16) & (1 << (signal.SIGTERM - 1)) for l in pending):
            wrong += 1
        # Positive control: the newcomer's own Process is signalled.
        fresh = sysprims.Process(new.pid)
        fresh.kill()
        assert fresh.wait(30) == -signal.SIGKILL
    print(f"rounds={rounds} wrong={wrong}")
    """
)


def test_pid_reuse_forced_in_a_pid_namespace_never_hits_the_newcomer():
    require("root", os.geteuid() == 0)
    require("unshare(1)", shutil.which("unshare") is not None)
    out = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", REUSE_SCRIPT, "20"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "rounds=20 wrong=0"


# --- jobs -----------------------------------------------------------------------------------


def test_job_context_exit_ends_a_setsid_grandchild():
    r, w = os.pipe()
    os.set_inheritable(w, True)
    # The grandchild reports its PID itself, once setsid has made it a session of its own.
    script = f"setsid sh -c 'echo $$ >/dev/fd/{w}; exec sleep 1000' & sleep 1000 & wait"
    job = sysprims.spawn_in_group(["sh", "-c", script], grace=5)
    os.close(w)
    grandchild = None
    try:
        with os.fdopen(r) as f:
            grandchild = int(f.readline())
        if job.tree_kill_reliability != "guaranteed":
            require("a writable cgroup v2 (the job is held by its process group only)", False)
        assert job.containment == "cgroup_v2" and job.cgroup
        # The grandchild left the job's session and process group.
        assert os.getsid(grandchild) != os.getsid(job.pid)
        assert os.getpgid(grandchild) != job.pgid
        with job:
            assert alive(job.pid) and alive(grandchild)
        assert not alive(grandchild)
        assert not job.is_running()
        assert not os.path.exists(job.cgroup)
    finally:
        if grandchild and alive(grandchild):
            os.kill(grandchild, signal.SIGKILL)
        try:
            job.kill()
        except sysprims.NoSuchProcess:
            pass  # The job ended and its cgroup is gone: the library says NotFound.


def test_job_wait_terminate_and_results(tmp_path):
    out = tmp_path / "out"
    job = sysprims.spawn_in_group(
        ["sh", "-c", 'echo "$GREETING"; exit 3'], env={"GREETING": "hello"}, stdout=str(out)
    )
    assert job.wait(30) == 3
    assert out.read_text() == "hello\n"
    assert job.wait() == 3
    assert job.result()["pid"] == job.pid == job.identity()["pid"]

    job = sysprims.spawn_in_group(["sleep", "1000"], stdout="null")
    with pytest.raises(sysprims.TimeoutExpired):
        job.wait(timeout=0)
    # One thread waits while another ends the job.
    got = []
    t = threading.Thread(target=lambda: got.append(job.wait()))
    t.start()
    result = job.terminate(grace=5)
    t.join()
    assert result["exited"] and not result["escalated"]
    assert got in ([-signal.SIGTERM], [None])
    assert not job.is_running()


def test_terminate_tree_ends_a_process_and_its_descendants(children):
    r, w = os.pipe()
    c = children.start(
        ["sh", "-c", f"sleep 1000 & echo $! >/dev/fd/{w}; sleep 1000 & wait"],
        pass_fds=(w,),
        start_new_session=True,
    )
    os.close(w)
    with os.fdopen(r) as f:
        grandchild = int(f.readline())
    # The wrong start time: nothing is signalled.
    with pytest.raises(sysprims.Error):
        sysprims.terminate_tree(c.pid, create_time=1.0)
    assert alive(grandchild)
    result = sysprims.terminate_tree(
        c.pid, grace=5, create_time=sysprims.Process(c.pid).create_time()
    )
    assert result["exited"] and result["survivors"] == []
    assert c.wait() == -signal.SIGTERM
    assert not alive(grandchild)


def test_run_with_timeout():
    done = sysprims.run_with_timeout(["sh", "-c", "exit 3"], 30)
    assert done["outcome"] == "completed" and done["exit_code"] == 3
    late = sysprims.run_with_timeout(["sleep", "1000"], 0.1, kill_after=5)
    assert late["outcome"] == "timed_out"
    assert late["signal"] == signal.SIGTERM and not late["escalated"]
    assert late["survivors"] == []
    # Signal numbers in and out are the signal module's (the platform's own: SIGUSR2 is 12 on
    # Linux, 31 on macOS).
    usr2 = sysprims.run_with_timeout(["sleep", "1000"], 0.1, signal=signal.SIGUSR2)
    assert usr2["outcome"] == "timed_out" and usr2["signal"] == signal.SIGUSR2


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("pid", [0, -1, 2**31, 2**40])
def test_bad_pids_are_value_errors_naming_the_value(pid):
    for call in (sysprims.Process, sysprims.pid_exists, sysprims.terminate_tree):
        with pytest.raises(ValueError, match=str(pid)):
            call(pid)


def test_bad_arguments_are_value_or_type_errors(children):
    with pytest.raises(TypeError):
        sysprims.Process("123")
    with pytest.raises(TypeError):
        sysprims.Process(1.5)
    p = sysprims.Process(children.sleeper().pid)
    with pytest.raises(ValueError, match="-1"):
        p.wait(timeout=-1)
    with pytest.raises(ValueError, match="(?i)nan"):
        p.wait(timeout=float("nan"))
    with pytest.raises(ValueError, match="NOPE"):
        p.send_signal("NOPE")
    with pytest.raises(ValueError, match="999"):
        p.send_signal(999)
    with pytest.raises(TypeError):
        p.send_signal(1.5)
    with pytest.raises(ValueError, match="bogus"):
        list(sysprims.process_iter(["bogus"]))
    with pytest.raises(TypeError):
        list(sysprims.process_iter("name"))
    with pytest.raises(ValueError, match="sctp"):
        sysprims.listening_ports(protocol="sctp")
    with pytest.raises(ValueError, match="70000"):
        sysprims.listening_ports(port=70000)
    with pytest.raises(ValueError, match=r"\[\]"):
        sysprims.spawn_in_group([])
    with pytest.raises(TypeError):
        sysprims.spawn_in_group("sleep 1")
    with pytest.raises(ValueError, match="sideways"):
        sysprims.spawn_in_group(["true"], containment="sideways")
    with pytest.raises(ValueError, match="-2"):
        sysprims.spawn_in_group(["true"], grace=-2)
    with pytest.raises(ValueError, match="-1"):
        sysprims.wait_procs([p], timeout=-1)
    with pytest.raises(TypeError):
        sysprims.wait_procs([123])
    with pytest.raises(ValueError, match="kind"):
        p.net_connections("bogus")
    with pytest.raises(sysprims.Error):
        sysprims.spawn_in_group(["/nonexistent/program"])
    # The caller itself is protected from destructive signals.
    with pytest.raises(ValueError):
        sysprims.Process(os.getpid()).terminate()
