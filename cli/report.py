# SPDX-License-Identifier: AGPL-3.0-or-later
"""The --report file: one record per input file, one per face, as JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from .atomic_files import write_atomically


def jsonable(value):
    """Plain JSON values for numpy scalars and arrays, dataclasses, paths and nested containers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)
                if not isinstance(getattr(value, field.name), np.ndarray) or getattr(value, field.name).size <= 16}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float):
        return round(value, 4)
    return value


def changed_box(mask: np.ndarray) -> list[int] | None:
    """[x0, y0, x1, y1) of the pixels a result may differ in (mask > 0), or None when none."""
    ys, xs = np.nonzero(mask > 0)
    if not len(xs):
        return None
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def face_record(index: int, face, action: str, **fields) -> dict:
    """A face's box (x0, y0, x1, y1 in pixels), detection score, the model(s) that found it, how it was
    aligned when not by its landmarks (see core.faces.ALIGNMENTS) and what was done to it."""
    record = {"index": index, "box": [round(float(v), 1) for v in face.box], "score": round(float(face.score), 4)}
    if getattr(face, "found_by", ""):
        record["found_by"] = face.found_by
    if getattr(face, "alignment", "landmarks") != "landmarks":
        record["alignment"] = face.alignment
    return {**record, "action": action, **fields}


NOT_SELECTED = "detected, not selected"


def not_selected_records(faces, args) -> list[dict]:
    """The faces that were detected but left untouched by --min-face or --max-faces, and why."""
    records = []
    for index, face in enumerate(faces):
        too_small = face.size < args.min_face
        reason = f"smaller than --min-face {args.min_face:g}" if too_small else f"beyond --max-faces {args.max_faces}"
        records.append(face_record(index, face, NOT_SELECTED, reason=reason))
    return records


# Positions within one core call (a group of files): the file's record says which file, the entry which face.
POSITION_KEYS = ("image_index", "face_index")


def photo_face_record(index: int, record, degree: float) -> dict:
    """One face of an anonymized or swapped photo, from its core record (core.engine.face_report): where it was
    and what was done (``face_record``), then every other field of its audit record (attempts, similarities...)."""
    entry = face_record(index, record.face, record.legacy_action, seed=record.seed, degree=degree)
    audit = jsonable(record.as_dict())
    entry.update({key: value for key, value in audit.items() if key not in entry and key not in POSITION_KEYS})
    return entry


class Report:
    def __init__(self, path: str | None, command: str, settings: dict):
        self.path = Path(path).expanduser() if path else None
        self.data = {"command": command, "settings": jsonable(settings), "files": []}

    def add(self, input_path: Path, output_path: Path | None, status: str, **fields) -> None:
        record = {"input": str(input_path), "output": str(output_path) if output_path else None, "status": status}
        record.update({key: jsonable(value) for key, value in fields.items() if value is not None})
        self.data["files"].append(record)

    def write(self, summary: dict) -> None:
        if self.path is None:
            return
        self.data["summary"] = summary
        write_atomically(self.path, (json.dumps(self.data, indent=2) + "\n").encode("utf-8"))
