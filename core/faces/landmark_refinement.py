# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sharper landmarks for tilted faces.

YuNet's landmarks lean toward an upright face: on a face rolled by 30 degrees it may report 10 or
less. Detecting again on a crop turned upright by the current estimate, until the estimate stops
changing, and then averaging with two crops turned a little either way (whose leans cancel), brings
the roll error down to a few degrees and keeps upright faces as precise as the first pass.

Refinement only ever moves landmarks within a plausible region around the face's box: a crop that
finds something else (a neighbour, or a face mirrored in from beyond the image edge) must not pull
the crop and the mask away from the face, so such results are dropped, and when the refined points
still leave that region the detector's own points are kept.
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
# Where landmarks may lie, as fractions of the box's longer side: within the box grown by this much,
# and with their centroid this close to the detector's. On 169 faces of real photos YuNet's points lie
# at least 7% inside the box and refinement moves their centroid by at most 7% (median 2%).
_BOX_MARGIN = 0.1
_MAX_CENTROID_SHIFT = 0.15

DetectRows = Callable[[np.ndarray], np.ndarray]


def face_roll(landmarks: np.ndarray) -> float:
    """The in-plane angle, in radians, that turns the face upright (similarity fit to the template)."""
    to_template = umeyama(landmarks, DFL_TEMPLATE_5)
    return float(np.arctan2(to_template[1, 0], to_template[0, 0]))


def plausible_landmarks(landmarks: np.ndarray, box, detected: np.ndarray) -> bool:
    """Whether `landmarks` can belong to the face in `box` (x0, y0, x1, y1) whose detector found
    `detected`: every point within the box grown by `_BOX_MARGIN`, and the centroid within
    `_MAX_CENTROID_SHIFT` of the detected one (both relative to the box's longer side)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    x0, y0, x1, y1 = (float(v) for v in box)
    size = max(x1 - x0, y1 - y0)
    if not (np.isfinite(points).all() and size > 0):
        return False
    margin = _BOX_MARGIN * size
    low, high = np.array([x0, y0]) - margin, np.array([x1, y1]) + margin
    inside = bool(np.all((points >= low) & (points <= high)))
    shift = np.linalg.norm(points.mean(axis=0) - np.asarray(detected, dtype=np.float64).reshape(5, 2).mean(axis=0))
    return inside and shift <= _MAX_CENTROID_SHIFT * size


def refine_landmarks(
    detect_rows: DetectRows,
    bgr: np.ndarray,
    landmarks: np.ndarray,
    box,
    *,
    max_rounds: int = 5,
    tolerance_deg: float = 1.0,
) -> np.ndarray:
    """Re-detect a face on upright crops until its roll changes by less than `tolerance_deg`, then
    average with crops turned by `_SPREAD_DEG`.

    `detect_rows` runs YuNet on a BGR image and returns its rows (x, y, w, h, 10 landmark
    coordinates, score); `box` (x0, y0, x1, y1) is the face's detected box. Returns 5x2 landmarks in
    `bgr` pixels: the input ones if no crop finds the face or the refined ones are not plausible.
    """
    detected = np.asarray(landmarks, dtype=np.float64)
    current = detected
    roll = face_roll(current)
    face_size = max(float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))
    face_px = float(np.clip(face_size, *_FACE_PX_RANGE))
    scale = face_px / face_size

    def detect_turned(angle: float) -> np.ndarray | None:
        found = _detect_on_turned_crop(detect_rows, bgr, current.mean(axis=0), angle, scale, face_px)
        return found if found is not None and plausible_landmarks(found, box, detected) else None

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
    refined = np.mean(votes, axis=0)
    return (refined if plausible_landmarks(refined, box, detected) else detected).astype(np.float32)


def _detect_on_turned_crop(
    detect_rows: DetectRows, bgr: np.ndarray, centre: np.ndarray, angle: float, scale: float, face_px: float
) -> np.ndarray | None:
    """Landmarks of the face nearest the middle of a crop around `centre`, turned by `angle`."""
    crop_px = int(round(face_px * _CROP_TO_FACE))
    cos, sin = scale * np.cos(angle), scale * np.sin(angle)
    linear = np.array([[cos, -sin], [sin, cos]])
    to_crop = np.column_stack([linear, crop_px / 2.0 - linear @ centre])
    # warpAffine has no area filter; a pre-blur would cost more than the little aliasing it saves.
    # Beyond the image edge the crop is black, as in the detector's own pass: a mirrored border would
    # show the face a second time, mirrored, and the crop could find that one instead.
    crop = cv2.warpAffine(
        bgr, to_crop, (crop_px, crop_px), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
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
