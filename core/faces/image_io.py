# SPDX-License-Identifier: AGPL-3.0-or-later
"""Conversions between the image types the face code accepts.

Images are HxWxC numpy arrays (or PIL images), either uint8 in [0, 255] or floating point in [0, 1].
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

ImageLike = Union[np.ndarray, Any]  # numpy array or PIL.Image.Image


def as_array(image: ImageLike) -> np.ndarray:
    """Return an HxWxC array (uint8 or float) for a numpy array or PIL image, without copying arrays."""
    if not isinstance(image, np.ndarray):
        if not hasattr(image, "convert"):
            raise TypeError(f"expected a numpy array or PIL image, got {type(image).__name__}")
        image = np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {image.shape}")
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"expected a uint8 or floating point image, got dtype {image.dtype}")
    return image


def as_rgb_uint8(image: ImageLike) -> np.ndarray:
    """Return the image as an HxWx3 uint8 RGB array (grey is repeated, alpha dropped)."""
    image = as_array(image)
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
