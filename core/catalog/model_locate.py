# SPDX-License-Identifier: AGPL-3.0-or-later
"""Finding model files on disk and judging them: present, missing, corrupt or refused.

`locate` says where a file is; `status` also says whether it can be used. Neither touches the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .model_catalog import DIFFUSION_NETS, GROUP_FOLDERS, PICKLE_SUFFIXES
from .model_records import ModelFile, PackageFile

PRESENT, MISSING, CORRUPT, REFUSED = "present", "missing", "corrupt", "refused"
_MAX_HEADER = 100_000_000  # a safetensors header larger than this is not a header
_PARTIAL_SUFFIXES = (".part", ".incomplete", ".lock")


@dataclass(frozen=True)
class FileStatus:
    record: ModelFile
    path: Path  # the file found, or where it belongs
    state: str  # PRESENT, MISSING, CORRUPT or REFUSED
    size: int  # bytes on disk when found, else the approximate download size
    problem: str = ""  # what is wrong, for CORRUPT and REFUSED

    @property
    def present(self) -> bool:
        return self.state == PRESENT


def folder_for(record: ModelFile, root: os.PathLike | str, model_name: Optional[str] = None) -> Path:
    """The folder of ``record`` under a models root; ``model_name`` names the diffusion model's folder."""
    group_folder = (model_name or GROUP_FOLDERS[record.group]) if record.group == "model" else GROUP_FOLDERS[record.group]
    folder = Path(root) / group_folder
    return folder / record.folder if record.folder else folder


def find_in_folder(record: ModelFile, folder: os.PathLike | str) -> Optional[Path]:
    """The published file in ``folder``, else the first accepted variant (sorted by name)."""
    folder = Path(folder)
    canonical = folder / record.file_name
    if canonical.is_file():
        return canonical
    if not folder.is_dir():
        return None
    for pattern in record.patterns:
        matches = sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.endswith(_PARTIAL_SUFFIXES))
        if matches:
            return matches[0]
    return None


def locate(record: ModelFile, roots: Sequence[os.PathLike | str], model_name: Optional[str] = None) -> Optional[Path]:
    """Where ``record`` is: the first root that has it, else an installed package that ships it; None if nowhere."""
    for root in roots:
        found = find_in_folder(record, folder_for(record, root, model_name))
        if found is not None:
            return found
    return _installed(record)


def locate_named(record: ModelFile, name: str, roots: Sequence[os.PathLike | str]) -> Optional[Path]:
    """The file called ``name`` (an accepted name of ``record``) in the first root that has it."""
    if not record.accepts(name) or os.path.basename(name) != name:
        return None
    for root in roots:
        candidate = folder_for(record, root) / name
        if candidate.is_file():
            return candidate
    return None


def file_names(records: Iterable[ModelFile], roots: Sequence[os.PathLike | str]) -> list[str]:
    """The accepted files of ``records`` present in any root, by name (for a file list in a UI)."""
    names = []
    for record in records:
        for root in roots:
            folder = folder_for(record, root)
            if folder.is_dir():
                names += [p.name for p in folder.iterdir() if p.is_file() and record.accepts(p.name)
                          and not p.name.endswith(_PARTIAL_SUFFIXES)]
    return sorted(set(names))


def status(record: ModelFile, roots: Sequence[os.PathLike | str], model_name: Optional[str] = None) -> FileStatus:
    """Whether ``record`` is present and usable under ``roots`` (the first root is where it would go)."""
    folders = [folder_for(record, root, model_name) for root in roots]
    found = next((p for p in (find_in_folder(record, f) for f in folders) if p is not None), None) or _installed(record)
    if found is not None:
        return judge(record, found)
    for folder in folders:
        refused = _refused(record, folder)
        if refused is not None:
            return refused
    return FileStatus(record, folders[0] / record.file_name, MISSING, record.size)


def status_in_folder(record: ModelFile, folder: os.PathLike | str) -> FileStatus:
    """``status`` for a file that must be in one given folder (a component folder the user points at)."""
    found = find_in_folder(record, folder)
    if found is not None:
        return judge(record, found)
    refused = _refused(record, Path(folder))
    return refused or FileStatus(record, Path(folder) / record.file_name, MISSING, record.size)


def judge(record: ModelFile, path: Path) -> FileStatus:
    """A found file's status: CORRUPT when it is empty, cut short or not the published file."""
    size = path.stat().st_size
    problem = file_problem(record, path, size)
    return FileStatus(record, path, CORRUPT if problem else PRESENT, size, problem)


def file_problem(record: ModelFile, path: Path, size: int, name: Optional[str] = None) -> str:
    """What is wrong with a found file, or "" when nothing is (cheap checks; hashes only for pinned files).

    ``name`` is the file's name in place, when ``path`` is a download still under a temporary name."""
    name = name or path.name
    if size == 0:
        return "empty (0 bytes)"
    if name.endswith(".safetensors"):
        return _safetensors_problem(path, size)
    if name.endswith(".json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            return f"not valid JSON ({error})"
    if record.sha256 and name == record.file_name and _sha256(path) != record.sha256:
        return f"its sha256 differs from the published file's ({record.sha256[:12]}…)"
    return ""


def is_model_folder(folder: os.PathLike | str) -> bool:
    """True when a folder has the three diffusion nets of the official layout."""
    return all(os.path.isdir(os.path.join(folder, c)) for c in DIFFUSION_NETS)


def model_names(roots: Sequence[os.PathLike | str]) -> list[str]:
    """The diffusion model folders found in ``roots``, by name."""
    names = set()
    for root in roots:
        if os.path.isdir(root):
            names.update(n for n in os.listdir(root) if is_model_folder(os.path.join(root, n)))
    return sorted(names)


def pickles_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES) if folder.is_dir() else []


def _refused(record: ModelFile, folder: Path) -> Optional[FileStatus]:
    if not record.file_name.endswith(".safetensors"):
        return None
    pickles = pickles_in(folder)
    if not pickles:
        return None
    problem = f"found {', '.join(pickles)} instead. Pickles can run arbitrary code and are refused"
    return FileStatus(record, folder / record.file_name, REFUSED, record.size, problem)


def _installed(record: ModelFile) -> Optional[Path]:
    for source in record.fallbacks:
        if isinstance(source, PackageFile):
            path = source.installed_path()
            if path is not None:
                return path
    return None


def _safetensors_problem(path: Path, size: int) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            header_size = struct.unpack("<Q", head)[0] if len(head) == 8 else None
            if header_size is None or header_size > min(size - 8, _MAX_HEADER):
                return f"truncated or not safetensors: {size} bytes, too short for its header"
            header = json.loads(f.read(header_size))
    except (OSError, ValueError) as error:
        return f"not a readable safetensors file ({error})"
    try:
        data_end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError, AttributeError):
        return "not a readable safetensors file (bad header)"
    expected = 8 + header_size + data_end
    if size != expected:
        return f"truncated: {size} bytes where its header promises {expected}" if size < expected else (
            f"{size} bytes where its header promises {expected}")
    return ""


_HASHES: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    """The file's sha256, remembered while the file is unchanged (a loader may be built many times)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]
