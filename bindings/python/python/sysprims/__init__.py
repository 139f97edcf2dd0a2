"""sysprims: process primitives with a psutil-familiar API.

Processes are held by their identity (PID, start time, executable and, on Linux 6.9+, the
pidfs inode), so a PID reused by a newcomer is never read, signalled or waited for as the
process you meant; jobs started with :func:`spawn_in_group` die whole, grandchildren that
called ``setsid`` included, when their ``with`` block is left.

The names follow psutil where psutil has the same thing (``Process``, ``process_iter``,
``pids``, ``pid_exists``, ``wait_procs``, ``NoSuchProcess``, ``AccessDenied``, ...), so code
and ``except`` clauses carry over. The blocking calls release the GIL.
"""

import socket as _socket
import threading as _threading
import time as _time
from collections import namedtuple as _namedtuple
from contextlib import contextmanager as _contextmanager
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from . import _sysprims
from ._errors import AccessDenied, Error, NoSuchProcess, TimeoutExpired, ZombieProcess
from ._sysprims import (
    Job,
    __version__,
    listening_ports,
    pid_exists,
    pids,
    run_with_timeout,
    spawn_in_group,
    terminate_tree,
)

__all__ = [
    "AccessDenied",
    "Error",
    "Job",
    "NoSuchProcess",
    "Process",
    "TimeoutExpired",
    "ZombieProcess",
    "__version__",
    "listening_ports",
    "pid_exists",
    "pids",
    "process_iter",
    "run_with_timeout",
    "spawn_in_group",
    "terminate_tree",
    "wait_procs",
    "STATUS_RUNNING",
    "STATUS_SLEEPING",
    "STATUS_DISK_SLEEP",
    "STATUS_STOPPED",
    "STATUS_TRACING_STOP",
    "STATUS_ZOMBIE",
    "STATUS_DEAD",
    "STATUS_IDLE",
    "STATUS_PARKED",
]

STATUS_RUNNING = "running"
STATUS_SLEEPING = "sleeping"
STATUS_DISK_SLEEP = "disk-sleep"
STATUS_STOPPED = "stopped"
STATUS_TRACING_STOP = "tracing-stop"
STATUS_ZOMBIE = "zombie"
STATUS_DEAD = "dead"
STATUS_IDLE = "idle"
STATUS_PARKED = "parked"

pmem = _namedtuple("pmem", ["rss", "vms", "shared", "text", "lib", "data", "dirty"])
pmem.__doc__ = "Memory of a process, bytes (psutil's Linux fields)."
pcputimes = _namedtuple(
    "pcputimes", ["user", "system", "children_user", "children_system", "iowait"]
)
pcputimes.__doc__ = "CPU time of a process, seconds (psutil's Linux fields)."
popenfile = _namedtuple("popenfile", ["path", "fd", "position", "mode", "flags"])
popenfile.__doc__ = "An open regular file, as psutil's Process.open_files() gives it."
pconn = _namedtuple("pconn", ["fd", "family", "type", "laddr", "raddr", "status"])
pconn.__doc__ = "A socket, as psutil's Process.net_connections() gives it."
addr = _namedtuple("addr", ["ip", "port"])
addr.__doc__ = "An IP address and port."

_O_APPEND = 0o2000
_FAMILIES = {"ipv4": _socket.AF_INET, "ipv6": _socket.AF_INET6, "unix": _socket.AF_UNIX}
_TYPES = {
    "tcp": _socket.SOCK_STREAM,
    "udp": _socket.SOCK_DGRAM,
    "unix_stream": _socket.SOCK_STREAM,
    "unix_dgram": _socket.SOCK_DGRAM,
    "unix_seqpacket": _socket.SOCK_SEQPACKET,
}
# psutil's `kind` argument: (families, protocols).
_KINDS = {
    "inet": (("ipv4", "ipv6"), ("tcp", "udp")),
    "inet4": (("ipv4",), ("tcp", "udp")),
    "inet6": (("ipv6",), ("tcp", "udp")),
    "tcp": (("ipv4", "ipv6"), ("tcp",)),
    "tcp4": (("ipv4",), ("tcp",)),
    "tcp6": (("ipv6",), ("tcp",)),
    "udp": (("ipv4", "ipv6"), ("udp",)),
    "udp4": (("ipv4",), ("udp",)),
    "udp6": (("ipv6",), ("udp",)),
    "unix": (("unix",), ("unix_stream", "unix_dgram", "unix_seqpacket")),
    "all": (
        ("ipv4", "ipv6", "unix"),
        ("tcp", "udp", "unix_stream", "unix_dgram", "unix_seqpacket"),
    ),
}
_TCP_STATES = {
    "established": "ESTABLISHED",
    "syn_sent": "SYN_SENT",
    "syn_recv": "SYN_RECV",
    "fin_wait1": "FIN_WAIT1",
    "fin_wait2": "FIN_WAIT2",
    "time_wait": "TIME_WAIT",
    "close": "CLOSE",
    "close_wait": "CLOSE_WAIT",
    "last_ack": "LAST_ACK",
    "listen": "LISTEN",
    "closing": "CLOSING",
}


def _open_mode(fd: Dict[str, Any]) -> str:
    access = fd.get("access")
    append = bool((fd.get("flags") or 0) & _O_APPEND)
    if access == "read":
        return "r"
    if access == "write":
        return "a" if append else "w"
    if access == "read_write":
        return "a+" if append else "r+"
    return "?"


class Process(_sysprims.Process):
    """A process, held by its identity: ``Process(pid)`` captures who has ``pid`` now.

    Every method acts on that process only. Once it has exited and its PID names a newcomer,
    reads raise :class:`NoSuchProcess`, :meth:`is_running` returns False, and
    :meth:`send_signal`, :meth:`terminate` and :meth:`kill` send nothing (they signal through
    a pidfd checked against the stored identity, so there is no window between check and
    kill). ``ValueError`` for a PID outside 1..2147483647, ``TypeError`` for a non-integer.
    """

    info: Dict[str, Any]
    returncode: Optional[int]

    @classmethod
    def from_identity(cls, identity: Dict[str, Any]) -> "Process":
        """A process from a stored identity (``Process.identity()``, saved as JSON, or a job
        record with ``pid``, ``start_time_unix_ms`` and ``exe_path``), for a supervisor that
        restarted. No system call: if the PID now names another process (another start time
        or executable), reads raise :class:`NoSuchProcess` and signals are not sent. Weaker
        than a live ``Process(pid)``: only the start time (10 ms ticks) and the executable
        are compared, not the pidfs inode."""
        if not isinstance(identity, dict) or not isinstance(identity.get("pid"), int):
            raise TypeError(f"identity must be a dict with an int 'pid', not {identity!r}")
        start, exe = identity.get("start_time_unix_ms"), identity.get("exe_path")
        if start is None and exe is None:
            raise ValueError(
                f"identity {identity!r} has no start_time_unix_ms or exe_path: nothing to verify"
            )
        return cls(identity["pid"], _listed=(start, exe))

    def memory_info(self) -> "pmem":
        """Memory use in bytes: ``pmem(rss, vms, shared, text, lib, data, dirty)``."""
        return pmem(*self._memory_info())

    def cpu_times(self) -> "pcputimes":
        """CPU time in seconds:
        ``pcputimes(user, system, children_user, children_system, iowait)``."""
        return pcputimes(*self._cpu_times())

    def children(self, recursive: bool = False) -> List["Process"]:
        """The children, or with ``recursive`` every descendant, as :class:`Process` objects
        (in tree order). Raises :class:`NoSuchProcess` once this process is gone."""
        return [
            type(self)(pid, _listed=(start, exe))
            for pid, start, exe in self._children(recursive=bool(recursive))
        ]

    def parent(self) -> Optional["Process"]:
        """The parent as a :class:`Process`, or ``None`` when it has none or it is gone."""
        ppid = self.ppid()
        if ppid == 0:
            return None
        try:
            return Process(ppid)
        except NoSuchProcess:
            return None

    def uids(self) -> int:
        """The effective UID."""
        return self._uid()

    def open_files(self) -> List["popenfile"]:
        """Regular files open in the process:
        ``popenfile(path, fd, position, mode, flags)`` as psutil gives them."""
        files = []
        for fd in self._fds(["file"]):
            path = fd.get("path") or fd.get("target") or ""
            if path.endswith(" (deleted)"):
                path = path[: -len(" (deleted)")]
            files.append(
                popenfile(path, fd["fd"], fd.get("offset") or 0, _open_mode(fd), fd.get("flags") or 0)
            )
        return files

    def net_connections(self, kind: str = "inet") -> List["pconn"]:
        """Sockets of the process: ``pconn(fd, family, type, laddr, raddr, status)`` as psutil
        gives them, for ``kind`` ``"inet"`` (default), ``"inet4"``, ``"inet6"``, ``"tcp"``,
        ``"tcp4"``, ``"tcp6"``, ``"udp"``, ``"udp4"``, ``"udp6"``, ``"unix"`` or ``"all"``."""
        if kind not in _KINDS:
            raise ValueError(f"invalid kind {kind!r}: expected one of {', '.join(_KINDS)}")
        families, protocols = _KINDS[kind]
        conns = []
        for fd in self._fds(["socket"]):
            sock = fd.get("socket")
            if not sock or sock["family"] not in families or sock["protocol"] not in protocols:
                continue
            if sock["family"] == "unix":
                laddr: Any = sock.get("local_address") or ""
                raddr: Any = sock.get("remote_address") or ""
            else:
                laddr = (
                    addr(sock["local_address"], sock["local_port"])
                    if sock.get("local_address") is not None
                    else ()
                )
                raddr = (
                    addr(sock["remote_address"], sock["remote_port"])
                    if sock.get("remote_address") is not None and sock.get("remote_port")
                    else ()
                )
            status = _TCP_STATES.get(sock["state"], "NONE") if sock["protocol"] == "tcp" else "NONE"
            conns.append(
                pconn(fd["fd"], _FAMILIES[sock["family"]], _TYPES[sock["protocol"]], laddr, raddr, status)
            )
        return conns

    connections = net_connections

    @_contextmanager
    def oneshot(self) -> Iterator[None]:
        """For psutil compatibility: a no-op context manager (each read is already one pass
        over ``/proc``)."""
        yield

    def as_dict(self, attrs: Optional[Iterable[str]] = None, ad_value: Any = None) -> Dict[str, Any]:
        """The values of the named methods (default: every read-only one), as psutil's
        ``as_dict``. ``AccessDenied`` and ``ZombieProcess`` give ``ad_value``."""
        names = _ATTRS if attrs is None else _check_attrs(attrs)
        out: Dict[str, Any] = {}
        for name in names:
            if name == "pid":
                out[name] = self.pid
                continue
            try:
                out[name] = getattr(self, name)()
            except (AccessDenied, ZombieProcess):
                out[name] = ad_value
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _sysprims.Process):
            return NotImplemented
        return self.pid == other.pid and self.create_time() == other.create_time()

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self.pid, self.create_time()))

    def __repr__(self) -> str:
        try:
            return f"sysprims.Process(pid={self.pid}, name={self.name()!r}, status={self.status()!r})"
        except Error:
            return f"sysprims.Process(pid={self.pid}, status='terminated')"

    __str__ = __repr__


_ATTRS = (
    "pid",
    "ppid",
    "name",
    "exe",
    "cmdline",
    "create_time",
    "status",
    "username",
    "num_threads",
    "memory_info",
    "cpu_times",
)
# What a listing gives without reading each process again: the row index of `_list`.
_LISTED = {
    "pid": 0,
    "ppid": 1,
    "name": 2,
    "exe": 3,
    "cmdline": 4,
    "create_time": 5,
    "status": 6,
    "username": 7,
    "num_threads": 8,
}


# What `_iter`'s lean listing answers by itself.
_LEAN = frozenset(("pid", "ppid", "name", "exe", "cmdline", "create_time"))


def _check_attrs(attrs: Iterable[str]) -> Tuple[str, ...]:
    if isinstance(attrs, str):
        raise TypeError(f"attrs must be a list of names, not a str ({attrs!r})")
    names = tuple(attrs)
    for name in names:
        if name not in _ATTRS:
            raise ValueError(f"invalid attr name {name!r}: expected some of {', '.join(_ATTRS)}")
    return names


def process_iter(
    attrs: Optional[Iterable[str]] = None, ad_value: Any = None
) -> Iterator[Process]:
    """Every running process, as :class:`Process` objects, by PID.

    With ``attrs`` (names of methods, as psutil's), each process's ``info`` attribute is a dict
    of those values, read in one listing (the listing reads ``/proc`` on a few threads at once,
    without the GIL): ``pid``, ``ppid``, ``name``, ``exe``, ``cmdline``, ``create_time``,
    ``status``, ``username`` and ``num_threads`` come from it; ``memory_info`` and
    ``cpu_times`` are read per process. When only the first six are asked for, a lean listing
    reads just ``stat``, ``cmdline`` and the ``exe`` link, the link only for processes whose
    start, name or command line changed since the last listing (psutil keeps ``exe()`` across
    calls the same way). Processes that exit during the listing are left out;
    ``AccessDenied`` and ``ZombieProcess`` give ``ad_value``.
    """
    names = _check_attrs(attrs) if attrs is not None else None
    if names is None or _LEAN.issuperset(names):
        # Only what the names need is read (stat, the executable link, the command line),
        # and the objects and their info dicts are built in one call.
        yield from _sysprims._iter(Process, None if names is None else list(names), ad_value)
        return
    rows = _sysprims._list()
    for row in rows:
        start = row[5]
        exe = row[3]
        p = Process(row[0], _listed=(start, exe))
        if names is not None:
            info: Dict[str, Any] = {}
            for name in names:
                i = _LISTED.get(name)
                if i is None:
                    try:
                        info[name] = getattr(p, name)()
                    except (AccessDenied, ZombieProcess):
                        info[name] = ad_value
                    except NoSuchProcess:
                        info = None  # type: ignore[assignment]
                        break
                elif name == "create_time":
                    info[name] = start / 1000.0 if start is not None else ad_value
                elif name == "exe":
                    info[name] = exe if exe is not None else ""
                else:
                    info[name] = row[i]
            if info is None:
                continue
            p.info = info
        yield p


def wait_procs(
    procs: Iterable[Process],
    timeout: Optional[float] = None,
    callback: Optional[Callable[[Process], Any]] = None,
) -> Tuple[List[Process], List[Process]]:
    """Wait for several processes to end, for at most ``timeout`` seconds (``None``: until
    all have), as psutil's ``wait_procs``. Returns ``(gone, alive)``; each gone process has a
    ``returncode`` attribute (exit code, minus a signal, or ``None``), and ``callback`` is
    called with each as it ends, in the order they end.

    Each process is waited for through its own pidfd on its own thread (the GIL released),
    so one stubborn process does not delay noticing the others.
    """
    if timeout is not None and not (isinstance(timeout, (int, float)) and 0 <= timeout < float("inf")):
        raise ValueError(f"invalid timeout {timeout!r}: it must be a non-negative number of seconds")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback {callback!r} is not callable")
    procs = list(procs)
    for p in procs:
        if not isinstance(p, _sysprims.Process):
            raise TypeError(f"wait_procs takes Process objects, not {type(p).__name__} ({p!r})")
    deadline = None if timeout is None else _time.monotonic() + timeout
    done: List[Tuple[int, Any]] = []
    cond = _threading.Condition()

    def waiter(i: int, p: Process) -> None:
        left = None if deadline is None else max(0.0, deadline - _time.monotonic())
        try:
            outcome: Any = ("gone", p.wait(left))
        except TimeoutExpired:
            outcome = ("alive", None)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            outcome = ("error", e)
        with cond:
            done.append((i, outcome))
            cond.notify()

    threads = [
        _threading.Thread(target=waiter, args=(i, p), daemon=True, name=f"sysprims-wait-{p.pid}")
        for i, p in enumerate(procs)
    ]
    for t in threads:
        t.start()
    gone: List[Process] = []
    seen = 0
    error: Optional[BaseException] = None
    while seen < len(procs):
        with cond:
            while len(done) <= seen:
                cond.wait()
            i, (what, value) = done[seen]
        seen += 1
        p = procs[i]
        if what == "gone":
            p.returncode = value
            gone.append(p)
            if callback is not None:
                callback(p)
        elif what == "error" and error is None:
            error = value
    for t in threads:
        t.join()
    if error is not None:
        raise error
    alive = [p for p in procs if not any(p is g for g in gone)]
    return gone, alive
