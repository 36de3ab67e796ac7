# SPDX-License-Identifier: AGPL-3.0-or-later
"""One run at a time per output folder: a lock on ``OUTDIR/.faceanon.lock``.

The lock is the operating system's (flock, or msvcrt on Windows), not the file's existence, so it goes
away with the process that held it, however that process ended: a lock file left by a killed run
never blocks the next one. The file holds the holder's process id and start time, for the message.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

from .errors import SetupError

LOCK_NAME = ".faceanon.lock"
POLL_SECONDS = 0.5

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(descriptor: int) -> None:
        os.lseek(descriptor, 0, os.SEEK_SET)
        msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_UN)


class FolderBusy(SetupError):
    """Another run holds the output folder."""


class FolderLock:
    def __init__(self, folder: Path, wait: bool = False, announce=None):
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.wait = wait
        self.announce = announce or (lambda text: print(text, file=sys.stderr))
        self.descriptor: int | None = None

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        return f" ({text})" if text else ""

    def _open_locked(self) -> int | None:
        """A descriptor of the lock file, locked by us, or None when another process holds it."""
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(descriptor):
            os.close(descriptor)
            return None
        try:  # the holder we waited for may have removed the file: then lock the new one instead
            if os.stat(self.path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor
        except FileNotFoundError:
            pass
        _unlock(descriptor)
        os.close(descriptor)
        return self._open_locked()

    def acquire(self) -> None:
        announced = False
        while True:
            try:
                descriptor = self._open_locked()
            except OSError as error:
                raise SetupError(
                    f"--output {self.folder}: cannot create {LOCK_NAME} there ({error.strerror or error})"
                ) from None
            if descriptor is not None:
                break
            if not self.wait:
                raise FolderBusy(
                    f"--output {self.folder} is in use by another faceanon run{self._holder()}. Wait for it to "
                    f"finish (add --wait to do so), or choose another --output folder."
                )
            if not announced:
                self.announce(f"Waiting for another faceanon run to finish with {self.folder}{self._holder()} ...")
                announced = True
            time.sleep(POLL_SECONDS)
        os.ftruncate(descriptor, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(descriptor, f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n".encode())
        self.descriptor = descriptor

    def release(self) -> None:
        if self.descriptor is None:
            return
        try:
            self.path.unlink()
        except OSError:  # Windows cannot remove an open file; the lock alone is what counts
            pass
        _unlock(self.descriptor)
        os.close(self.descriptor)
        self.descriptor = None

    def __enter__(self) -> "FolderLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
