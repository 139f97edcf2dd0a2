"""The exceptions of sysprims, named as psutil names them so that ``except`` clauses carry over.

Every one has ``pid`` (or ``None``), ``code`` (the library's error code, such as
``"NotFound"``) and ``msg`` (the library's message).
"""

from typing import Optional

__all__ = ["Error", "NoSuchProcess", "ZombieProcess", "AccessDenied", "TimeoutExpired"]


class Error(Exception):
    """Base class of every sysprims exception (bad input is ``ValueError``/``TypeError``)."""

    def __init__(
        self,
        msg: str = "",
        *,
        pid: Optional[int] = None,
        name: Optional[str] = None,
        code: str = "System",
    ) -> None:
        self.pid = pid
        self.name = name
        self.code = code
        self.msg = msg
        super().__init__(msg)

    def __str__(self) -> str:
        return self.msg or f"{type(self).__name__} (pid={self.pid})"


class NoSuchProcess(Error):
    """The process does not exist, or has exited and its PID now names another process."""

    def __init__(
        self,
        pid: Optional[int] = None,
        name: Optional[str] = None,
        msg: Optional[str] = None,
        *,
        code: str = "NotFound",
    ) -> None:
        super().__init__(msg or f"process no longer exists (pid={pid})", pid=pid, name=name, code=code)


class ZombieProcess(NoSuchProcess):
    """The process has exited and is a zombie its parent has not reaped: what it had
    (executable, command line) is gone."""

    def __init__(
        self,
        pid: Optional[int] = None,
        name: Optional[str] = None,
        ppid: Optional[int] = None,
        msg: Optional[str] = None,
        *,
        code: str = "NotFound",
    ) -> None:
        self.ppid = ppid
        super().__init__(pid, name, msg or f"process is a zombie (pid={pid})", code=code)


class AccessDenied(Error):
    """Permission denied."""

    def __init__(
        self,
        pid: Optional[int] = None,
        name: Optional[str] = None,
        msg: Optional[str] = None,
        *,
        code: str = "PermissionDenied",
    ) -> None:
        super().__init__(msg or f"access denied (pid={pid})", pid=pid, name=name, code=code)


class TimeoutExpired(Error):
    """A wait's timeout passed before the process ended; the process runs on.
    ``seconds`` is the timeout."""

    def __init__(
        self,
        seconds: Optional[float] = None,
        pid: Optional[int] = None,
        name: Optional[str] = None,
        msg: Optional[str] = None,
        *,
        code: str = "Timeout",
    ) -> None:
        self.seconds = seconds
        super().__init__(
            msg or f"timeout after {seconds} seconds (pid={pid})", pid=pid, name=name, code=code
        )
