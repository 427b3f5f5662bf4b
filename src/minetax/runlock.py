"""One run at a time per MINETAX_HOME: an exclusive lock held from the first step of a run to its last.

The lock is an advisory `flock` on MINETAX_HOME/run.lock, taken before the warehouse is opened and released when
the run ends (the operating system releases it when the process dies, however it dies). The file holds the PID
and start time of the holder, so a refused run says who holds it. Because a live run always holds the lock, a
run that finds another run recorded as running in the warehouse knows that run's process is gone.

Read-only commands (sql, runs, export, report) never take it: they read the published snapshot and the run log.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
from pathlib import Path

from minetax.errors import MinetaxError


class RunLock:
    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, home: Path) -> RunLock:
        """Take the lock at once or refuse (never wait: the caller says what to do)."""
        path = home / "run.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise MinetaxError(f"refused: another minetax run ({holder or 'a process'}) is running in {home}; only one "
                               "run at a time may write a home. Nothing was changed; run again when it has finished "
                               "(readers use the published snapshot and are not affected).") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"PID {os.getpid()}, started {dt.datetime.now():%Y-%m-%d %H:%M:%S}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass  # e.g. a full or read-only disk: closing still releases the lock
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
