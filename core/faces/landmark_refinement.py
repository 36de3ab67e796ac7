# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sharper landmarks for tilted faces.

YuNet's landmarks lean toward an upright face: on a face rolled by 30 degrees it may report 10 or
less. Detecting again on a crop turned upright by the current estimate, until the estimate stops
changing, and then averaging with two crops turned a little either way (whose leans cancel), brings
the roll error down to a few degrees and keeps upright faces as precise as the first pass.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .framing import invert_affine, transform_points, umeyama
from .templates import DFL_TEMPLATE_5

# Faces are re-detected at their own size, clamped to this range (YuNet loses faces above ~300 px
# and precision below ~100 px), in the middle of a crop this many times their size.
_FACE_PX_RANGE = (112.0, 160.0)
_CROP_TO_FACE = 2.5
_SPREAD_DEG = (-10.0, 10.0)

DetectRows = Callable[[np.ndarray], np.ndarray]


def face_roll(landmarks: np.ndarray) -> float:
    """The in-plane angle, in radians, that turns the face upright (similarity fit to the template)."""
    to_template = umeyama(landmarks, DFL_TEMPLATE_5)
    return float(np.arctan2(to_template[1, 0], to_template[0, 0]))


def refine_landmarks(
    detect_rows: DetectRows,
    bgr: np.ndarray,
    landmarks: np.ndarray,
    face_size: float,
    *,
    max_rounds: int = 5,
    tolerance_deg: float = 1.0,
) -> np.ndarray:
    """Re-detect a face on upright crops until its roll changes by less than `tolerance_deg`, then
    average with crops turned by `_SPREAD_DEG`.

    `detect_rows` runs YuNet on a BGR image and returns its rows (x, y, w, h, 10 landmark
    coordinates, score). Returns 5x2 landmarks in `bgr` pixels; the input ones if no crop finds it.
    """
    current = np.asarray(landmarks, dtype=np.float64)
    roll = face_roll(current)
    face_px = float(np.clip(face_size, *_FACE_PX_RANGE))
    scale = face_px / face_size

    def detect_turned(angle: float) -> np.ndarray | None:
        return _detect_on_turned_crop(detect_rows, bgr, current.mean(axis=0), angle, scale, face_px)

    for _ in range(max_rounds):
        found = detect_turned(roll)
        if found is None:
            break
        change = abs(np.degrees(face_roll(found) - roll))
        current, roll = found, face_roll(found)
        if change < tolerance_deg:
            break
    votes = [current]
    for spread in np.radians(_SPREAD_DEG):
        found = detect_turned(roll + spread)
        if found is not None:
            votes.append(found)
    return np.mean(votes, axis=0).astype(np.float32)


def _detect_on_turned_crop(
    detect_rows: DetectRows, bgr: np.ndarray, centre: np.ndarray, angle: float, scale: float, face_px: float
) -> np.ndarray | None:
    """Landmarks of the face nearest the middle of a crop around `centre`, turned by `angle`."""
    crop_px = int(round(face_px * _CROP_TO_FACE))
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    linear = np.array([[cos, -sin], [sin, cos]])
    to_crop = np.column_stack([linear, crop_px / 2.0 - linear @ centre])
    # warpAffine has no area filter; a pre-blur would cost more than the little aliasing it saves.
    crop = cv2.warpAffine(
        bgr, to_crop, (crop_px, crop_px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    rows = detect_rows(crop)
    if not len(rows):
        return None
    centres = rows[:, :2] + rows[:, 2:4] / 2.0
    distances = np.hypot(*(centres - crop_px / 2.0).T)
    best = int(np.argmin(distances))
    if distances[best] > face_px / 2.0:
        return None  # what it found is not this face
    return transform_points(rows[best, 4:14].reshape(5, 2), invert_affine(to_crop))
