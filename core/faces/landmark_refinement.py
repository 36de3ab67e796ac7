# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sharper landmarks for tilted faces.

YuNet's landmarks lean toward an upright face: on a face rolled by 30 degrees it may report 10 or
less. Detecting again on a crop turned upright by the current estimate, until the estimate stops
changing, brings the roll error down to a few degrees.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .framing import invert_affine, transform_points, umeyama
from .templates import DFL_TEMPLATE_5

# The face is scaled to about this many pixels (YuNet is most precise well under 300 px) in the
# middle of a crop of this side.
_FACE_PX = 144
_CROP_PX = 384


def face_roll(landmarks: np.ndarray) -> float:
    """The in-plane angle, in radians, that turns the face upright (similarity fit to the template)."""
    to_template = umeyama(landmarks, DFL_TEMPLATE_5)
    return float(np.arctan2(to_template[1, 0], to_template[0, 0]))


def refine_landmarks(
    detect_rows: Callable[[np.ndarray], np.ndarray],
    bgr: np.ndarray,
    landmarks: np.ndarray,
    face_size: float,
    *,
    max_rounds: int = 5,
    tolerance_deg: float = 1.0,
) -> np.ndarray:
    """Re-detect a face on upright crops until its roll changes by less than `tolerance_deg`.

    `detect_rows` runs YuNet on a BGR image and returns its rows (x, y, w, h, 10 landmark
    coordinates, score). Returns 5x2 landmarks in `bgr` pixels; the input ones if no round finds it.
    """
    current = np.asarray(landmarks, dtype=np.float64)
    previous_roll = None
    for _ in range(max_rounds):
        roll = face_roll(current)
        if previous_roll is not None and abs(np.degrees(roll - previous_roll)) < tolerance_deg:
            break
        previous_roll = roll
        found = _detect_upright(detect_rows, bgr, current.mean(axis=0), roll, _FACE_PX / face_size)
        if found is None:
            break
        current = found
    return current.astype(np.float32)


def _detect_upright(
    detect_rows: Callable[[np.ndarray], np.ndarray], bgr: np.ndarray, centre: np.ndarray, roll: float, scale: float
) -> np.ndarray | None:
    cos, sin = scale * np.cos(roll), scale * np.sin(roll)
    linear = np.array([[cos, -sin], [sin, cos]])
    to_crop = np.column_stack([linear, _CROP_PX / 2.0 - linear @ centre])
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(
        bgr, to_crop, (_CROP_PX, _CROP_PX), flags=interpolation, borderMode=cv2.BORDER_REFLECT_101
    )
    rows = detect_rows(crop)
    if rows is None or not len(rows):
        return None
    centres = rows[:, :2] + rows[:, 2:4] / 2.0
    distances = np.hypot(*(centres - _CROP_PX / 2.0).T)
    best = int(np.argmin(distances))
    if distances[best] > _FACE_PX / 2.0:
        return None  # what it found is not this face
    return transform_points(rows[best, 4:14].reshape(5, 2), invert_affine(to_crop))
