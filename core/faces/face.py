# SPDX-License-Identifier: AGPL-3.0-or-later
"""The detected-face record and the interface every face source implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .image_io import ImageLike


@dataclass(frozen=True, eq=False)
class Face:
    """One face in image pixel coordinates.

    `box` is (x0, y0, x1, y1); `landmarks` is a 5x2 float32 array in YuNet order
    (right eye, left eye, nose tip, right mouth corner, left mouth corner; subject's sides).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray

    def __post_init__(self) -> None:
        landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(5, 2)
        landmarks.setflags(write=False)
        object.__setattr__(self, "landmarks", landmarks)
        object.__setattr__(self, "box", tuple(float(v) for v in self.box))
        object.__setattr__(self, "score", float(self.score))

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
        return f"Face(box=({x0:.1f}, {y0:.1f}, {x1:.1f}, {y1:.1f}), score={self.score:.3f})"


@runtime_checkable
class Detector(Protocol):
    """Anything that finds faces: a neural detector, or faces the user supplied."""

    def detect(self, image: ImageLike) -> list[Face]: ...
