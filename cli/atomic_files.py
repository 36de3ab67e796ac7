# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writing a file atomically: the data goes to a temporary file of its own in the same folder, which
then replaces the target in one step. Two runs writing the same name never share a temporary file,
and an interrupted run never leaves a half-written file under the real name."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK  # what open() would have given: mkstemp makes its files private (0600)


def write_atomically(path: Path, data: bytes, before_replace=None) -> None:
    """Write ``data`` to ``path``; ``before_replace()`` runs once the data is on disk, before the rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        os.chmod(temporary, FILE_MODE)
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
