# SPDX-License-Identifier: AGPL-3.0-or-later
"""The record of the results a run wrote, kept in the output folder, so that resuming skips only them.

A file that merely exists at a result's path proves nothing: users copy a shoot into the folder they
will publish. So every result gets a line in ``OUTDIR/.faceanon-manifest.jsonl``: which input it was
made from (size, modification time and SHA-256), a hash of the settings that shape it, and the
result's own SHA-256. A later run skips a result only when all of them still match; anything else at
a result's path is an error that names it, or is redone with --overwrite. Nothing is put in the images.
The input's path is not recorded: the output folder is what users publish, and a path can name a
person or a source. The result's own relative path already mirrors the input's.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .report import jsonable

MANIFEST_NAME = ".faceanon-manifest.jsonl"
FORMAT = 1
# Options that change a result only by rounding (batching, device, precision), or that only say where
# things are and how the run talks: changing them between runs does not redo finished files.
NOT_SHAPING_RESULTS = frozenset({
    "inputs", "output", "recursive", "overwrite", "report", "quiet", "wait", "models", "download",
    "batch", "max_photos_in_memory", "max_megapixels_in_memory", "device", "dtype",
})
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def settings_hash(args) -> str:
    """SHA-256 of the command and every option that shapes a result; for swap, the source's content too."""
    settings = {key: value for key, value in vars(args).items() if key not in NOT_SHAPING_RESULTS}
    if getattr(args, "source", None):
        settings["source"] = file_sha256(Path(args.source).expanduser())
    text = json.dumps(jsonable(settings), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class InputFingerprint:
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> "InputFingerprint":
        stat = path.stat()
        return cls(stat.st_size, stat.st_mtime_ns, file_sha256(path))

    def matches(self, path: Path) -> bool:
        """Same content. The same size and time at the input that maps to this result's path are trusted
        without reading the file again."""
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) == (self.size, self.mtime_ns):
            return True
        return stat.st_size == self.size and file_sha256(path) == self.sha256


class Manifest:
    def __init__(self, output_root: Path, settings: str):
        self.root = output_root
        self.path = output_root / MANIFEST_NAME
        self.settings = settings
        self.entries: dict[str, dict] = {}  # by result path relative to the root; the last line wins
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                    self.entries[entry["output"]] = entry
                except (ValueError, KeyError, TypeError):  # a line cut short by a crash
                    continue

    def _key(self, output: Path) -> str:
        return output.relative_to(self.root).as_posix()

    def outputs(self) -> list[Path]:
        return [self.root / key for key in self.entries]

    def why_not_done(self, input_path: Path, output: Path) -> str | None:
        """None when the file at ``output`` is this tool's result for ``input_path`` with these settings;
        otherwise why it is not (the caller knows that the file exists)."""
        entry = self.entries.get(self._key(output))
        if entry is None:
            return f"{output} exists but was not written by faceanon (no record in {self.path})"
        if entry.get("settings") != self.settings:
            return f"{output} was written by faceanon with other settings"
        recorded = entry.get("input", {})
        try:
            fingerprint = InputFingerprint(recorded["size"], recorded["mtime_ns"], recorded["sha256"])
        except (KeyError, TypeError):
            return f"{output} has an unreadable record in {self.path}"
        if not fingerprint.matches(input_path):
            return f"{output} was made from another input, or from {input_path} before it changed"
        if file_sha256(output) != entry.get("output_sha256"):
            return f"{output} was changed after faceanon wrote it"
        return None

    def record(self, source: InputFingerprint, output: Path, output_sha256: str) -> None:
        """Append the record of a result whose data is on disk and about to take its name (see
        write_photo). Recording first means a crash in between leaves a record without its result, which
        the next run redoes, and never a result without its record, which it would refuse."""
        entry = {"format": FORMAT, "output": self._key(output), "input": vars(source), "settings": self.settings,
                 "output_sha256": output_sha256}
        line = json.dumps(entry, sort_keys=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        self.entries[entry["output"]] = entry
