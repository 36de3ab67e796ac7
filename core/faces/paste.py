# SPDX-License-Identifier: AGPL-3.0-or-later
"""Blending new face crops back into the source image.

Each crop is warped back with its inverse transform and written only through its feathered face
mask, one face after the other onto the running result, so a later crop never brings back original
pixels over a face that was already replaced. Pixels outside every mask stay bit-identical.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ..errors import FaceAnonError
from ..options import COLOR_MATCH, FEATHER, GROW
from .alignment import AlignedFace
from .color_match import match_color
from .framing import transform_points
from .image_io import ImageLike, as_array, to_dtype_of, to_float32
from .masks import face_mask
from .warp import warp_affine

# Warped mask values below this are treated as outside the face, so the untouched area stays exact.
_MASK_FLOOR = 1.0 / 1024.0


def paste_faces(
    image: ImageLike, faces: Sequence[AlignedFace], crops: Sequence[ImageLike], **blending
) -> tuple[np.ndarray, np.ndarray]:
    """Blend `crops[i]` (the new content of `faces[i]`'s crop) into `image`.

    Returns the result, with the dtype and channels of `image`, and an HxW float32 mask in [0, 1]:
    the union (maximum) of every face's blending weights. `blending` is `paste_pixels`'s: `feather` and
    `grow` shape the face mask (see `face_mask`); `color_match` matches each crop's Lab mean and spread to
    the original face.
    """
    output, union = paste_pixels(as_array(image), faces, crops, **blending)
    if isinstance(image, np.ndarray) and image.ndim == 2:
        output = output[:, :, 0]
    return output, union


def paste_pixels(
    source: np.ndarray,
    faces: Sequence[AlignedFace],
    crops: Sequence[ImageLike],
    *,
    feather: float = FEATHER.default,
    grow: float = GROW.default,
    color_match: bool = COLOR_MATCH.default,
) -> tuple[np.ndarray, np.ndarray]:
    """`paste_faces` on an HxWxC array that `as_array` has already checked (see `align_pixels`); the
    defaults are the options' (core/options.py)."""
    if len(faces) != len(crops):
        raise FaceAnonError(f"got {len(crops)} crops for {len(faces)} faces")
    height, width = source.shape[:2]
    result = to_float32(source)
    if result is source:
        result = result.copy()
    union = np.zeros((height, width), np.float32)
    for aligned, crop in zip(faces, crops):
        if aligned.source_size != (height, width):
            raise FaceAnonError(
                f"face was aligned on a {aligned.source_size[1]}x{aligned.source_size[0]} image, "
                f"not this {width}x{height} one"
            )
        prepared = _prepare_crop(aligned, crop, source.shape[2], color_match)
        _composite(result, union, aligned, prepared, feather, grow)
    output = source.copy()
    touched = union > 0
    output[touched] = to_dtype_of(result[touched], source)
    return output, union


def _prepare_crop(aligned: AlignedFace, crop: ImageLike, channels: int, color_match: bool) -> np.ndarray:
    """The crop as float32 [0, 1], size x size, with the source's colour channels."""
    pixels = to_float32(as_array(crop))
    if pixels.shape[:2] != (aligned.size, aligned.size):
        interpolation = cv2.INTER_AREA if pixels.shape[0] > aligned.size else cv2.INTER_CUBIC
        pixels = cv2.resize(pixels, (aligned.size, aligned.size), interpolation=interpolation)
        pixels = pixels.reshape(aligned.size, aligned.size, -1)
    rgb = np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else pixels[:, :, :3]
    if color_match:
        original = to_float32(aligned.image)
        original = np.repeat(original, 3, axis=2) if original.shape[2] == 1 else original[:, :, :3]
        rgb = match_color(rgb, original, face_mask(aligned.framing, aligned.size))
    if channels == 1:
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)[:, :, None]
    return np.ascontiguousarray(rgb)


def face_regions(
    height: int, width: int, faces: Sequence[AlignedFace], *, feather: float = 0.06, grow: float = 0.0
) -> np.ndarray:
    """The HxW float32 mask `paste_faces` would return for `faces`, without pasting anything."""
    union = np.zeros((height, width), np.float32)
    for aligned in faces:
        placed = _face_weight(aligned, height, width, feather, grow)
        if placed is not None:
            (x0, y0, x1, y1), weight, _ = placed
            np.maximum(union[y0:y1, x0:x1], weight, out=union[y0:y1, x0:x1])
    return union


def _face_weight(aligned: AlignedFace, height: int, width: int, feather: float, grow: float):
    """The face's blending weights on its bounding region of the image, with the crop-to-region transform;
    None when the face does not reach into the image."""
    corners = transform_points(
        [(0, 0), (aligned.size, 0), (aligned.size, aligned.size), (0, aligned.size)], aligned.inverse
    )
    x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int), 0, [width, height])
    x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 1, 0, [width, height])
    if x1 <= x0 or y1 <= y0:
        return None
    crop_to_region = aligned.inverse - np.array([[0, 0, x0], [0, 0, y0]], dtype=np.float64)
    size = (x1 - x0, y1 - y0)
    mask = face_mask(aligned.framing, aligned.size, feather=feather, grow=grow)
    weight = warp_affine(
        mask, crop_to_region, size, interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_CONSTANT
    )
    weight = np.clip(weight.reshape(size[1], size[0]), 0.0, 1.0)
    weight[weight < _MASK_FLOOR] = 0.0
    if not weight.any():
        return None
    return (x0, y0, x1, y1), weight, crop_to_region


def _composite(
    result: np.ndarray, union: np.ndarray, aligned: AlignedFace, crop: np.ndarray, feather: float, grow: float
) -> None:
    """Blend one prepared crop into `result` in place and add its weights to `union`."""
    placed = _face_weight(aligned, *union.shape, feather, grow)
    if placed is None:
        return
    (x0, y0, x1, y1), weight, crop_to_region = placed
    content = warp_affine(crop, crop_to_region, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC)
    content = content.reshape(y1 - y0, x1 - x0, -1)
    region = result[y0:y1, x0:x1]
    color = region[:, :, : content.shape[2]]
    color += (content - color) * weight[:, :, None]
    np.maximum(union[y0:y1, x0:x1], weight, out=union[y0:y1, x0:x1])
