# SPDX-License-Identifier: AGPL-3.0-or-later
"""Raw detector output as arrays: what the backends return before faces are chosen from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nms import nms


@dataclass(frozen=True)
class Detections:
    """N candidate faces: `boxes` Nx4 (x0, y0, x1, y1), `scores` N, `landmarks` Nx5x2 in YuNet order,
    all float64 in the pixels of the image they were found in."""

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, 5, 2)))

    @classmethod
    def from_yunet_rows(cls, rows: np.ndarray | None) -> Detections:
        """YuNet rows are (x, y, w, h, 10 landmark coordinates, score)."""
        if rows is None or not len(rows):
            return cls.empty()
        rows = np.asarray(rows, dtype=np.float64)
        boxes = np.column_stack([rows[:, :2], rows[:, :2] + rows[:, 2:4]])
        return cls(boxes, rows[:, 14], rows[:, 4:14].reshape(-1, 5, 2))

    @classmethod
    def concatenate(cls, parts) -> Detections:
        parts = [part for part in parts if len(part)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("boxes", "scores", "landmarks")))

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, indices) -> Detections:
        indices = np.asarray(indices, dtype=np.int64)
        return Detections(self.boxes[indices], self.scores[indices], self.landmarks[indices])

    def mapped(self, scale_x: float, scale_y: float, offset_x: float = 0.0, offset_y: float = 0.0) -> Detections:
        """Coordinates multiplied by the scales, then shifted by the offsets."""
        factors, shift = np.array([scale_x, scale_y]), np.array([offset_x, offset_y])
        boxes = (self.boxes.reshape(-1, 2, 2) * factors + shift).reshape(-1, 4)
        return Detections(boxes, self.scores, self.landmarks * factors + shift)

    def above(self, threshold: float) -> Detections:
        return self.take(np.flatnonzero(self.scores >= threshold))

    def suppressed(self, iou_threshold: float) -> Detections:
        """Non-maximum suppression, best score first."""
        return self.take(nms(self.boxes, self.scores, iou_threshold))
