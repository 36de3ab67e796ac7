# SPDX-License-Identifier: AGPL-3.0-or-later
"""The soft elliptical mask through which a new face is blended into its crop."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from ..errors import FaceAnonError
from .framing import canonical_landmarks

Ellipse = tuple[tuple[float, float], tuple[float, float]]


def face_ellipse(framing: str = "whole_face", size: int = 512) -> Ellipse:
    """Centre (x, y) and semi-axes (rx, ry), in crop pixels, of an ellipse from the hairline to just
    below the chin and across both cheeks, derived from where the framing puts the eyes and mouth."""
    points = canonical_landmarks(framing, size)
    eyes = (points[0] + points[1]) / 2.0
    mouth = (points[3] + points[4]) / 2.0
    eye_distance = np.linalg.norm(points[1] - points[0])
    eye_to_mouth = np.linalg.norm(mouth - eyes)
    # Faces run from about 1.1 eye-to-mouth distances above the eyes to 0.8 below the mouth.
    centre_x = eyes[0]
    centre_y = (eyes[1] + mouth[1]) / 2.0 - 0.15 * eye_to_mouth
    return (float(centre_x), float(centre_y)), (float(1.15 * eye_distance), float(1.45 * eye_to_mouth))


def face_mask(
    framing: str = "whole_face", size: int = 512, *, feather: float = 0.06, grow: float = 0.0
) -> np.ndarray:
    """A size x size float32 mask: 1 inside the face ellipse, falling smoothly to 0 outside it.

    `grow` widens (or, when negative, narrows) the ellipse's opaque core and `feather` is the width
    of the fall-off outside the core, both as fractions of the crop side. The fall-off lies entirely
    outside the core, so the face itself is always fully covered. The mask is 0 on the crop border.
    """
    return _face_mask(framing, int(size), round(float(feather), 6), round(float(grow), 6)).copy()


@lru_cache(maxsize=16)
def _face_mask(framing: str, size: int, feather: float, grow: float) -> np.ndarray:
    if feather < 0:
        raise FaceAnonError(f"feather must be >= 0, got {feather}")
    (cx, cy), (rx, ry) = face_ellipse(framing, size)
    rx, ry = rx + grow * size, ry + grow * size
    if rx <= 0 or ry <= 0:
        raise FaceAnonError(f"grow {grow} shrinks the face ellipse to nothing")
    core = np.zeros((size, size), np.uint8)
    shift = 4  # cv2.ellipse takes fixed-point coordinates: integers scaled by 2**shift
    centre = (round(cx * 2**shift), round(cy * 2**shift))
    axes = (round(rx * 2**shift), round(ry * 2**shift))
    cv2.ellipse(core, centre, axes, 0, 0, 360, 255, cv2.FILLED, cv2.LINE_8, shift)
    feather_px = feather * size
    if feather_px < 0.5:
        mask = core.astype(np.float32) / 255.0
    else:
        outside = cv2.distanceTransform(255 - core, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        mask = _smoothstep(1.0 - outside / feather_px)
    border = _distance_to_border(size)
    mask *= _smoothstep(border / max(feather_px, 1.0))
    mask.setflags(write=False)
    return mask


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0).astype(np.float32)
    return t * t * (3.0 - 2.0 * t)


def _distance_to_border(size: int) -> np.ndarray:
    """Distance of each pixel centre from the nearest crop edge pixel (0 on the edge)."""
    ramp = np.minimum(np.arange(size), np.arange(size)[::-1]).astype(np.float32)
    return np.minimum(ramp[:, None], ramp[None, :])
