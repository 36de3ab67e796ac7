# SPDX-License-Identifier: AGPL-3.0-or-later
"""Faces the user supplied (boxes, optionally landmarks), served through the detector interface."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .face import Face
from .image_io import ImageLike
from .templates import BOX_RELATIVE_LANDMARKS


def landmarks_from_box(box: Sequence[float]) -> np.ndarray:
    """Estimate the 5 landmarks of an upright frontal face from its (x0, y0, x1, y1) box."""
    x0, y0, x1, y1 = (float(v) for v in box)
    return (np.array([x0, y0]) + BOX_RELATIVE_LANDMARKS * [x1 - x0, y1 - y0]).astype(np.float32)


class StaticFaces:
    """A `Detector` that returns the same, user-supplied faces for every image.

    `boxes` is Nx4 (x0, y0, x1, y1) in pixels; `landmarks` (Nx5x2, YuNet order) is optional and
    estimated from each box when omitted; `scores` defaults to 1.
    """

    def __init__(
        self,
        boxes: Sequence[Sequence[float]] | np.ndarray,
        landmarks: Sequence | np.ndarray | None = None,
        scores: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if np.any(boxes[:, 2] <= boxes[:, 0]) or np.any(boxes[:, 3] <= boxes[:, 1]):
            raise ValueError("each box must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0")
        if landmarks is None:
            points = np.stack([landmarks_from_box(b) for b in boxes]) if len(boxes) else np.zeros((0, 5, 2))
        else:
            points = np.asarray(landmarks, dtype=np.float32)
            if points.shape != (len(boxes), 5, 2):
                raise ValueError(f"landmarks must have shape ({len(boxes)}, 5, 2), got {points.shape}")
        scores = np.ones(len(boxes)) if scores is None else np.asarray(scores, dtype=np.float64).ravel()
        if len(scores) != len(boxes):
            raise ValueError(f"got {len(scores)} scores for {len(boxes)} boxes")
        self.faces = [Face(box=b, score=s, landmarks=p) for b, s, p in zip(boxes, scores, points)]

    def detect(self, image: ImageLike | None = None) -> list[Face]:
        return list(self.faces)
