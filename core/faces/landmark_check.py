# SPDX-License-Identifier: AGPL-3.0-or-later
"""Can a face's five landmarks align it? Profiles, masks and faces cut by the border give landmarks
that a detector still reports but that would put the aligned crop beside the face, or squeeze it.

The checks are on the face's own frame (turned so the eyes are level): both eyes apart by a fair
part of the box, the mouth below the eyes, the subject's right side on the image's left as in
every upright face, and every point near the box. A face no landmarks can align is aligned by its
box, as an upright face filling it, which still covers it; unless most of the box lies outside the
image, where such a crop would hold more mirrored border than face: that face cannot be aligned
and must be redacted.
"""

from __future__ import annotations

import numpy as np

from .static_faces import landmarks_from_box

MIN_EYE_SPAN = 0.2  # of the box side: frontal faces have ~0.45, a turned head down to ~0.25
MIN_EYES_TO_MOUTH = 0.15  # of the box side: ~0.35 on frontal faces
BOX_MARGIN = 0.25  # points may lie this far (of the box side) outside the box
MIN_VISIBLE_FOR_BOX = 0.6  # of the box area inside the image, to align a face by its box


def landmark_problem(box, landmarks) -> str | None:
    """Why `landmarks` (5x2, YuNet order) cannot align the face in `box`, or None when they can."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0, 1e-6)
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    if not np.isfinite(points).all():
        return "landmarks are not numbers"
    margin = BOX_MARGIN * side
    if (points[:, 0] < x0 - margin).any() or (points[:, 0] > x1 + margin).any() or \
            (points[:, 1] < y0 - margin).any() or (points[:, 1] > y1 + margin).any():
        return "landmarks lie outside the face box"
    right_eye, left_eye, _, right_mouth, left_mouth = points
    eye_line = left_eye - right_eye
    span = float(np.hypot(*eye_line))
    if span < MIN_EYE_SPAN * side:
        return "the eyes are too close together (a profile or a hidden eye)"
    across = eye_line / span
    down = np.array([-across[1], across[0]])  # image y grows downward, so this points to the chin
    eyes = (right_eye + left_eye) / 2.0
    mouth = (right_mouth + left_mouth) / 2.0
    if float((mouth - eyes) @ down) < MIN_EYES_TO_MOUTH * side:
        return "the mouth is not below the eyes"
    if float((left_mouth - right_mouth) @ across) <= 0:
        return "the mouth corners are swapped"
    return None


def choose_alignment(box, candidates, image_shape: tuple[int, int]) -> tuple[np.ndarray, str]:
    """(landmarks, alignment, see face.ALIGNMENTS): the first plausible of `candidates` (5x2 arrays
    or None), with "landmarks"; else those of an upright face filling the box, with "box", or with
    "none" when less than MIN_VISIBLE_FOR_BOX of the box lies inside the (height, width) image."""
    for landmarks in candidates:
        if landmarks is not None and landmark_problem(box, landmarks) is None:
            return np.asarray(landmarks, dtype=np.float64), "landmarks"
    fallback = landmarks_from_box(box).astype(np.float64)
    return fallback, "box" if visible_fraction(box, image_shape) >= MIN_VISIBLE_FOR_BOX else "none"


def visible_fraction(box, image_shape: tuple[int, int]) -> float:
    """How much of the box's area lies inside an image of (height, width)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    height, width = image_shape
    inside = max(0.0, min(x1, width) - max(x0, 0.0)) * max(0.0, min(y1, height) - max(y0, 0.0))
    return inside / max((x1 - x0) * (y1 - y0), 1e-9)
