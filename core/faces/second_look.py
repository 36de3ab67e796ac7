# SPDX-License-Identifier: AGPL-3.0-or-later
"""A second look at a doubtful face: the other model, on a crop that shows the face at its best size.

Each model scans the whole image only at the scales it can afford; a face one of them found alone
may be too small, or too large, for the other's scan. Cropping around it and scaling the crop so the
face is LOOK_FACE_PX px tall lets the other model judge it where it is strongest, for the price of a
small pass.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .detections import Detections
from .scanning import padded_crop

LOOK_SIZE = 96  # px square crop, a multiple of 32 as CenterFace needs
LOOK_FACE_PX = 32.0  # the face's box side in the crop: where both models score best for their cost


def second_look(rgb: np.ndarray, box: np.ndarray, detect_window: Callable[[np.ndarray], Detections]) -> Detections:
    """What `detect_window` finds on a crop centred on `box`, in the pixels of `rgb`."""
    side = max(box[2] - box[0], box[3] - box[1], 1.0)
    region = int(np.ceil(side * LOOK_SIZE / LOOK_FACE_PX))  # source pixels the crop shows
    centre = (box[:2] + box[2:]) / 2.0
    left, top = int(round(centre[0] - region / 2.0)), int(round(centre[1] - region / 2.0))
    crop = padded_crop(rgb, 0, left, top, region, region)
    interpolation = cv2.INTER_AREA if region > LOOK_SIZE else cv2.INTER_CUBIC
    crop = cv2.resize(crop, (LOOK_SIZE, LOOK_SIZE), interpolation=interpolation)
    scale = region / LOOK_SIZE
    return detect_window(crop).mapped(scale, scale, left, top)
