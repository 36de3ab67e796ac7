# SPDX-License-Identifier: AGPL-3.0-or-later
"""From INPUT arguments (files, folders, glob patterns) to jobs: which file goes where.

Results keep their input's path relative to the folder (or the fixed part of the pattern) it was
found under, so a tree of photos comes out as the same tree. No result may land on an input.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .image_files import SAVE_FORMATS

IMAGE_SUFFIXES = tuple(SAVE_FORMATS)  # every image type is written back in its own format
GLOB_CHARACTERS = "*?["


@dataclass(frozen=True)
class Job:
    input: Path
    output: Path

    @property
    def done(self) -> bool:
        return self.output.exists()


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def _is_pattern(text: str) -> bool:
    return any(character in text for character in GLOB_CHARACTERS)


def _pattern_base(pattern: str) -> Path:
    """The folder part of a pattern before its first wildcard: ``photos/2024/*/*.jpg`` -> ``photos/2024``."""
    fixed = []
    for part in Path(pattern).parts[:-1]:
        if _is_pattern(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _excluded(path: Path, scanned: Path, exclude: Path | None) -> bool:
    """True for files in ``exclude`` when that folder lies inside the ``scanned`` one (results of
    an earlier run inside the input folder); an output folder equal to or above the inputs
    excludes nothing, so that writing over an input is caught and refused instead."""
    if exclude is None or scanned.resolve() not in exclude.parents:
        return False
    return exclude in path.resolve().parents


def _folder_images(folder: Path, recursive: bool, exclude: Path | None) -> Iterable[tuple[Path, Path]]:
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    for path in sorted(candidates):
        if is_image_file(path) and not _excluded(path, folder, exclude):
            yield path, path.relative_to(folder)


def find_inputs(arguments: Sequence[str], recursive: bool, exclude: Path | None = None) -> list[tuple[Path, Path]]:
    """(file, path relative to where it was found) for every image the arguments name, in order.

    Files under ``exclude`` (the output folder) are skipped when scanning folders and patterns, so
    results inside an input folder are not taken for inputs on the next run.
    """
    found: list[tuple[Path, Path]] = []
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            matches = list(_folder_images(path, recursive, exclude))
        elif path.is_file():
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise UsageError(f"{argument}: not a supported image type ({', '.join(IMAGE_SUFFIXES)})")
            matches = [(path, Path(path.name))]
        elif _is_pattern(argument):
            base = _pattern_base(argument)
            matches = []
            for match in sorted(glob.glob(os.path.expanduser(argument), recursive=recursive)):
                match = Path(match)
                if match.is_dir():
                    inside = _folder_images(match, recursive, exclude)
                    matches += [(path, match.relative_to(base) / relative) for path, relative in inside]
                elif is_image_file(match) and not _excluded(match, base, exclude):
                    matches.append((match, match.relative_to(base)))
        else:
            raise UsageError(f"{argument}: no such file or folder")
        if not matches:
            hint = "" if recursive else " (use -r to look into subfolders)"
            raise UsageError(f"{argument}: no images found{hint}")
        found += matches
    return found


def plan_jobs(arguments: Sequence[str], output_dir: str, recursive: bool, protected: Sequence[str] = ()) -> list[Job]:
    """One job per distinct input file; refuses when a result would overwrite an input (or a
    ``protected`` file such as the swap source) or two inputs would share one result."""
    output_root = Path(output_dir).expanduser()
    if output_root.exists() and not output_root.is_dir():
        raise UsageError(f"--output {output_dir}: exists and is not a folder")
    inputs = find_inputs(arguments, recursive, exclude=output_root.resolve())
    jobs, by_input, by_output = [], set(), {}
    untouchable = {path.resolve() for path, _ in inputs} | {Path(p).expanduser().resolve() for p in protected}
    for path, relative in inputs:
        key = path.resolve()
        if key in by_input:
            continue
        by_input.add(key)
        output = output_root / relative
        target = output.resolve()
        if target in untouchable or (output.exists() and any(same_file(output, p) for p in (path, *protected))):
            raise UsageError(f"refusing to write over the input {path}: choose an --output folder "
                             f"where results do not land on their inputs")
        if target in by_output:
            raise UsageError(f"{by_output[target]} and {path} would both be written to {output}; "
                             f"process them in separate runs or give their folder instead")
        by_output[target] = path
        jobs.append(Job(path, output))
    return jobs


def same_file(a: Path, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
