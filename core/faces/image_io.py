# SPDX-License-Identifier: AGPL-3.0-or-later
"""Conversions between the image types the face code accepts, and the one check of their values.

Images are HxWxC numpy arrays (or PIL images), either uint8 in [0, 255] or floating point in [0, 1].
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from ..errors import FaceAnonError

ImageLike = Union[np.ndarray, Any]  # numpy array or PIL.Image.Image

# Float pixels a hair outside 0..1 (resampling overshoot, fp16 rounding) are clipped, not refused.
RANGE_TOLERANCE = 1e-3


def check_pixel_values(values, name: str = "image"):
    """The value rule of every entry point, for numpy arrays and torch tensors alike: uint8 pixels are
    0..255, floating-point ones finite and within 0..1. Returns ``values`` unchanged.

    Without it a float photo in 0..255 (``np.asarray(img, np.float32)``) saturates to white: the detector
    finds no face in it and the photo would pass through untouched.
    """
    dtype = str(values.dtype).replace("torch.", "")
    if dtype == "uint8":
        return values
    if not dtype.startswith(("float", "bfloat")):
        raise FaceAnonError(f"{name}: expected uint8 pixels (0..255) or floating-point pixels (0..1), got {dtype}")
    if (values.numel() if hasattr(values, "numel") else values.size) == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if not (low >= -RANGE_TOLERANCE and high <= 1 + RANGE_TOLERANCE):  # also refuses NaN
        hint = " (a 0..255 image: divide it by 255 or pass it as uint8)" if 1 < high <= 255 and low >= 0 else ""
        raise FaceAnonError(
            f"{name}: floating-point pixel values must lie in 0..1, got {low:.4g}..{high:.4g}{hint}"
        )
    return values


def as_array(image: ImageLike, name: str = "image") -> np.ndarray:
    """Return an HxWxC array (uint8 or float in 0..1) for a numpy array or PIL image, without copying
    arrays; anything else (another type or shape, an empty image, values out of range) is a
    FaceAnonError naming ``name``."""
    if not isinstance(image, np.ndarray):
        if not hasattr(image, "convert"):
            raise FaceAnonError(f"{name}: expected a numpy array or PIL image, got {type(image).__name__}")
        image = np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise FaceAnonError(f"{name}: expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {image.shape}")
    if not image.shape[0] or not image.shape[1]:
        raise FaceAnonError(f"{name}: the image is empty ({image.shape[1]}x{image.shape[0]} pixels)")
    return check_pixel_values(image, name)


def as_rgb_uint8(image: ImageLike, name: str = "image") -> np.ndarray:
    """Return the image as an HxWx3 uint8 RGB array (grey is repeated, alpha dropped)."""
    image = as_array(image, name)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[:, :, :3]
    if image.dtype != np.uint8:
        image = to_uint8(image)
    return np.ascontiguousarray(image)


def to_float32(image: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] or float [0, 1] -> float32 [0, 1]."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return image.astype(np.float32, copy=False)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """float [0, 1] -> uint8 with rounding; uint8 passes through."""
    if image.dtype == np.uint8:
        return image
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def to_dtype_of(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Convert float32 [0, 1] values back to the dtype and range of `reference`."""
    if reference.dtype == np.uint8:
        return to_uint8(values)
    return np.clip(values, 0.0, 1.0).astype(reference.dtype, copy=False)
