# SPDX-License-Identifier: AGPL-3.0-or-later
"""Is the middle of each face replaced? The check every composite passes before it is returned.

Whatever placed a face's crop (the detector's landmarks, their refinement, points a user supplied,
a mask shrunk by `grow`), the middle of the face's detected box, where the eyes, nose and mouth are,
must lie under the replaced region. A face whose middle is not covered is redacted by its box: its
landmarks are estimated again from the square around the box, whose crop covers the box's middle
whatever the box's shape or the face's true landmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .face import Face
from .static_faces import landmarks_from_box

# The middle of a box: this fraction of its width and of its height, around its centre. On a frontal
# face it holds both eyes, the nose and the mouth.
CENTRAL_FRACTION = 0.5
# A pixel is covered when at least this much of it was replaced; the opaque core of every face mask
# is 1, so only a crop placed beside the face, or a mask shrunk into the face, falls below it.
COVERED_WEIGHT = 0.9
# Box redactions are at least this wide: below it the mask, shrunk from its 512 px crop, is soft all over.
MIN_BOX_REDACTION_PX = 8.0


def central_region(box: Sequence[float], height: int, width: int) -> tuple[slice, slice] | None:
    """(rows, columns) of the middle of `box` (x0, y0, x1, y1) within an image of this size, always at
    least one pixel; None when the box's middle lies outside the image."""
    x0, y0, x1, y1 = (float(v) for v in box)
    centre_x, centre_y = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half_w, half_h = CENTRAL_FRACTION * (x1 - x0) / 2.0, CENTRAL_FRACTION * (y1 - y0) / 2.0
    columns = _pixel_span(centre_x - half_w, centre_x + half_w, width)
    rows = _pixel_span(centre_y - half_h, centre_y + half_h, height)
    return None if rows is None or columns is None else (rows, columns)


def _pixel_span(low: float, high: float, limit: int) -> slice | None:
    """The pixels whose centres lie in [low, high], or the one pixel nearest that range; clipped to the image."""
    first, last = int(np.ceil(low - 0.5)), int(np.floor(high - 0.5))
    if last < first:
        first = last = int(np.floor((low + high) / 2.0))
    first, last = max(first, 0), min(last, limit - 1)
    return slice(first, last + 1) if first <= last else None


def is_covered(face: Face, mask: np.ndarray) -> bool:
    """Whether every pixel of the middle of `face`'s box is replaced (weight >= COVERED_WEIGHT) in the
    HxW `mask`. A face whose middle lies outside the image has nothing left to cover."""
    region = central_region(face.box, *mask.shape[:2])
    return region is None or bool(mask[region].min() >= COVERED_WEIGHT)


def uncovered_faces(faces: Sequence[Face], mask: np.ndarray) -> list[int]:
    """Indices of the faces whose middle `mask` does not cover."""
    return [index for index, face in enumerate(faces) if not is_covered(face, mask)]


def box_face(face: Face) -> Face:
    """`face` with landmarks estimated from the square around its box, for redacting it by its box."""
    x0, y0, x1, y1 = face.box
    centre_x, centre_y, half = (x0 + x1) / 2.0, (y0 + y1) / 2.0, max(face.size, MIN_BOX_REDACTION_PX) / 2.0
    square = (centre_x - half, centre_y - half, centre_x + half, centre_y + half)
    return Face(box=face.box, score=face.score, landmarks=landmarks_from_box(square))
