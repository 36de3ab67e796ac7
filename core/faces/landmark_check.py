# SPDX-License-Identifier: AGPL-3.0-or-later
"""Can a face's five landmarks align it? Profiles, masks and faces cut by the border give landmarks
that a detector still reports but that would put the aligned crop beside the face, or squeeze it.

The checks are on the face's own frame (turned so the eyes are level): both eyes apart by a fair
part of the box, the mouth below the eyes, the subject's right side on the image's left as in
every upright face, and every point near the box.
"""

from __future__ import annotations

import numpy as np

from .static_faces import landmarks_from_box

MIN_EYE_SPAN = 0.2  # of the box side: frontal faces have ~0.45, a turned head down to ~0.25
MIN_EYES_TO_MOUTH = 0.15  # of the box side: ~0.35 on frontal faces
BOX_MARGIN = 0.25  # points may lie this far (of the box side) outside the box


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


def box_landmarks_if_needed(box, landmarks, alternatives=()) -> tuple[np.ndarray, str]:
    """(landmarks, alignment): the first plausible of `landmarks` and `alternatives`, with "landmarks";
    else those of an upright face filling the box, with "box"."""
    for candidate in (landmarks, *alternatives):
        if candidate is not None and landmark_problem(box, candidate) is None:
            return np.asarray(candidate, dtype=np.float64), "landmarks"
    return landmarks_from_box(box).astype(np.float64), "box"
