# SPDX-License-Identifier: AGPL-3.0-or-later
"""The review overlay: every face's box, index, score and finder drawn on the image, for checking by eye.

No detector finds every face, so users who publish must look. The overlay makes that quick: a face
without a box was missed. Colours tell which model found a face (both, only YuNet, only CenterFace);
a face whose landmarks could not be trusted is drawn with a thin inner box.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .face import Face
from .image_io import ImageLike, as_array, as_rgb_uint8, to_dtype_of, to_float32

FINDER_COLOURS = {  # RGB
    "yunet+centerface": (40, 220, 40),
    "yunet": (255, 170, 0),
    "centerface": (0, 170, 255),
}
OTHER_COLOUR = (255, 60, 200)  # faces from elsewhere (a user's boxes, an unknown detector)
FINDER_LABELS = {"yunet+centerface": "both", "yunet": "YuNet", "centerface": "CenterFace"}


def review_overlay(image: ImageLike, faces: Sequence[Face]) -> np.ndarray:
    """A copy of `image` (same dtype, HxWx3) with each face's box, index, score and finder drawn on it."""
    source = as_array(image)
    canvas = as_rgb_uint8(source).copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(height, width) / 600))
    font_scale = max(0.4, max(height, width) / 1600)
    for index, face in enumerate(faces):
        colour = FINDER_COLOURS.get(face.found_by, OTHER_COLOUR)
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness)  # crisp: exact colours
        if face.alignment != "landmarks":  # marks a face aligned by its box, or not at all
            inset = 2 * thickness + 1
            cv2.rectangle(canvas, (x0 + inset, y0 + inset), (x1 - inset, y1 - inset), colour, 1)
        radius = int(max(1, min(thickness + 1, face.size / 25)))
        for x, y in face.landmarks:
            cv2.circle(canvas, (int(round(x)), int(round(y))), radius, colour, -1, cv2.LINE_AA)
        # Labels follow the face's size, so that a crowd's labels do not hide its faces.
        scale = min(font_scale, max(0.3, face.size / 100))
        text = f"{index} {face.score:.2f} {_finder(face)}"
        _label(canvas, text, (x0, y0), colour, scale, 1 if scale < 0.6 else thickness)
    _legend(canvas, len(faces), font_scale, thickness)
    return canvas if source.dtype == np.uint8 else to_dtype_of(to_float32(canvas), source)


def _finder(face: Face) -> str:
    label = FINDER_LABELS.get(face.found_by, face.found_by or "given")
    return label if face.alignment == "landmarks" else f"{label}, aligned by {face.alignment}"


def _label(canvas, text, corner, colour, font_scale, thickness) -> None:
    """Text on a dark band above the box (inside it when the box touches the top)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (text_w, text_h), baseline = cv2.getTextSize(text, font, font_scale, thickness)
    x, y = max(0, corner[0]), corner[1]
    top = y - text_h - baseline - 2 * thickness
    if top < 0:
        top = max(0, y)
    bottom = top + text_h + baseline + 2 * thickness
    cv2.rectangle(canvas, (x, top), (x + text_w + 2 * thickness, bottom), (0, 0, 0), -1)
    cv2.putText(canvas, text, (x + thickness, bottom - baseline - thickness), font, font_scale, colour, thickness,
                cv2.LINE_AA)


def _legend(canvas, count, font_scale, thickness) -> None:
    """A band along the bottom: the face count, then each finder's name in its colour."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (_, text_h), baseline = cv2.getTextSize("0 faces", font, font_scale, thickness)
    height = canvas.shape[0]
    x, y = 2 * thickness, height - baseline - 2 * thickness
    cv2.rectangle(canvas, (0, y - text_h - 2 * thickness), (canvas.shape[1], height), (0, 0, 0), -1)
    cv2.putText(canvas, f"{count} faces", (x, y), font, font_scale, (255, 255, 255), thickness, cv2.LINE_AA)
    x += cv2.getTextSize(f"{count} faces   ", font, font_scale, thickness)[0][0]
    for finder, label in FINDER_LABELS.items():
        cv2.putText(canvas, label, (x, y), font, font_scale, FINDER_COLOURS[finder], thickness, cv2.LINE_AA)
        x += cv2.getTextSize(label + "   ", font, font_scale, thickness)[0][0]
