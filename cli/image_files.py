# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading photos upright and writing results in the input's format without any metadata.

EXIF, XMP, ICC profiles and PNG text chunks can identify people (names, GPS, camera serials), so
results carry none. The EXIF orientation is applied to the pixels first, so they still show upright.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .atomic_files import write_atomically

SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP",
                ".tif": "TIFF", ".tiff": "TIFF", ".gif": "GIF"}
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"quality": 95}}
# MPO is how cameras store a JPEG with extra pictures (previews, depth, the other eye of a 3D pair):
# the first frame is the photo, and the result, as plain JPEG, leaves the rest out on purpose.
SINGLE_PICTURE_FORMATS = ("MPO",)


class UnreadableImage(Exception):
    """A file that is not a readable image; the run reports it and goes on."""


class MultiFrameImage(UnreadableImage):
    """An animated or multi-page image: processing only its first frame would silently drop the others."""


@dataclass
class Photo:
    pixels: np.ndarray  # HxWx1 (grey), HxWx3 (RGB) or HxWx4 (RGBA), uint8
    mode: str  # "L", "RGB" or "RGBA": how the result is written


def _pixel_mode(image: Image.Image) -> str:
    if "A" in image.getbands() or "transparency" in image.info:
        return "RGBA"
    if image.mode in ("1", "L") or image.mode.startswith(("I", "F")):
        return "L"
    return "RGB"


def _to_uint8(image: Image.Image, mode: str) -> np.ndarray:
    if mode == "L" and image.mode.startswith(("I", "F")):  # 16-bit and float greys
        values = np.asarray(image, dtype=np.float64)
        if values.max(initial=0) > 255:
            values = values / 257
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)[:, :, None]
    pixels = np.asarray(image.convert(mode))
    return pixels[:, :, None] if pixels.ndim == 2 else pixels


def read_photo(path: Path) -> Photo:
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > 1 and image.format not in SINGLE_PICTURE_FORMATS:
                raise MultiFrameImage(
                    f"has {frames} frames (an animated or multi-page {image.format}); faceanon processes still "
                    f"images only and would drop every frame but the first: split it into single images first"
                )
            image = ImageOps.exif_transpose(image)  # also loads the pixels: truncated files fail here
            mode = _pixel_mode(image)
            return Photo(_to_uint8(image, mode), mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImage(f"not a readable image ({error})") from None


def as_photo_pixels(pixels: np.ndarray, mode: str) -> np.ndarray:
    """HxWxC uint8 (C 1, 3 or 4) in the channel layout of ``mode``."""
    if pixels.shape[2] == 1 and mode != "L":
        pixels = np.repeat(pixels, 3, axis=2)
    if mode == "L" and pixels.shape[2] != 1:
        return np.asarray(Image.fromarray(np.ascontiguousarray(pixels[:, :, :3])).convert("L"))[:, :, None]
    if mode == "RGB":
        return pixels[:, :, :3]
    if mode == "RGBA" and pixels.shape[2] == 3:
        return np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    return pixels


def encode_photo(path: Path, pixels: np.ndarray, mode: str) -> bytes:
    """``pixels`` encoded in the format of ``path``'s suffix, with no metadata."""
    image_format = SAVE_FORMATS[path.suffix.lower()]
    pixels = as_photo_pixels(pixels, mode)
    if image_format == "JPEG" and mode == "RGBA":
        pixels, mode = pixels[:, :, :3], "RGB"
    image = Image.fromarray(np.ascontiguousarray(pixels[:, :, 0] if mode == "L" else pixels), mode)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **SAVE_OPTIONS.get(image_format, {}))
    return buffer.getvalue()


def write_photo(path: Path, pixels: np.ndarray, mode: str, before_replace=None) -> str:
    """Save ``pixels`` (see encode_photo) atomically, through a temporary file of its own, so that an
    interrupted or concurrent run never leaves a half-written result; returns the file's SHA-256.
    ``before_replace(sha256)`` runs once the data is on disk, before it takes the result's name."""
    data = encode_photo(path, pixels, mode)
    digest = hashlib.sha256(data).hexdigest()
    write_atomically(path, data, before_replace=None if before_replace is None else lambda: before_replace(digest))
    return digest
