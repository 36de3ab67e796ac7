# SPDX-License-Identifier: AGPL-3.0-or-later
"""The detected-face record and the interface every face source implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .image_io import ImageLike

# "landmarks": the detector's landmarks align the face. "box": they were implausible (a profile, a mask)
# and were replaced by the ones of an upright face filling the box. "none": not even that is possible;
# the face must be redacted by its box.
ALIGNMENTS = ("landmarks", "box", "none")


@dataclass(frozen=True, eq=False)
class Face:
    """One face in image pixel coordinates.

    `box` is (x0, y0, x1, y1); `landmarks` is a 5x2 float32 array in YuNet order
    (right eye, left eye, nose tip, right mouth corner, left mouth corner; subject's sides).
    `found_by` names the model(s) that found it, e.g. "yunet+centerface" ("" when unknown).
    `alignment` says how far the landmarks can be trusted (see ALIGNMENTS).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray
    found_by: str = ""
    alignment: str = "landmarks"

    def __post_init__(self) -> None:
        landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(5, 2)
        landmarks.setflags(write=False)
        object.__setattr__(self, "landmarks", landmarks)
        object.__setattr__(self, "box", tuple(float(v) for v in self.box))
        object.__setattr__(self, "score", float(self.score))
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment: expected one of {', '.join(ALIGNMENTS)}, got {self.alignment!r}")

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """The longer side of the box, in pixels."""
        return max(self.width, self.height)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2.0, (self.box[1] + self.box[3]) / 2.0

    def __repr__(self) -> str:
        x0, y0, x1, y1 = self.box
        found_by = f", found_by={self.found_by!r}" if self.found_by else ""
        alignment = f", alignment={self.alignment!r}" if self.alignment != "landmarks" else ""
        return f"Face(box=({x0:.1f}, {y0:.1f}, {x1:.1f}, {y1:.1f}), score={self.score:.3f}{found_by}{alignment})"


@runtime_checkable
class Detector(Protocol):
    """Anything that finds faces: a neural detector, or faces the user supplied."""

    def detect(self, image: ImageLike) -> list[Face]: ...
