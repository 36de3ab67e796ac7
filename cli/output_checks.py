# SPDX-License-Identifier: AGPL-3.0-or-later
"""Checks made before any work: the folders a run writes to accept files, and the --report file is
not something a report must never replace (an input, a result, the swap source, any other file)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import UsageError
from .inputs import same_file

REPORT_KEYS = {"command", "settings", "files"}
MAX_REPORT_BYTES = 1 << 30  # a larger file is not one of our reports


def nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(folder: Path, option: str) -> None:
    """Creating a file in ``folder`` (or in the nearest folder above it that exists, where it will be
    created) works. Tried for real: permission bits do not tell about root, ACLs or read-only mounts."""
    existing = nearest_existing(folder)
    if not existing.is_dir():
        raise UsageError(f"{option} {folder}: {existing} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".faceanon-probe-"):
            pass
    except OSError as error:
        raise UsageError(f"{option} {folder}: cannot write in {existing} ({error.strerror or error}); "
                         f"choose a folder you can write to") from None


def is_report(path: Path) -> bool:
    """True for a JSON file written by --report (so a later run may replace it)."""
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and REPORT_KEYS <= set(data) and isinstance(data["files"], list)


def check_report_path(report: str | None, overwrite: bool, taken: Iterable[tuple[Path, str]]) -> None:
    """Refuse a --report path that is one of ``taken`` (path, what it is), a folder, or an existing file
    that is not a report (unless ``overwrite``); check that its folder accepts files."""
    if not report:
        return
    path = Path(report).expanduser()
    for other, what in taken:
        if path.resolve() == other.resolve() or same_file(path, other):
            raise UsageError(f"--report {report}: that is {what}; choose another file for the report")
    if path.is_dir():
        raise UsageError(f"--report {report}: is a folder; name a file, e.g. {path / 'report.json'}")
    if path.exists() and not overwrite and not is_report(path):
        raise UsageError(f"--report {report}: exists and is not a faceanon report; choose another file, "
                         f"or add --overwrite to replace it")
    check_writable(path.parent, "--report")
