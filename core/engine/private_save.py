# SPDX-License-Identifier: AGPL-3.0-or-later
"""Saving images with nothing in the file but pixels: no prompt, workflow, EXIF, XMP, ICC or text.

Each image is encoded from a fresh PIL image made from its pixels, so no metadata can be carried
over. Names come from a counter or from the file's own SHA-256, never from the input, and an
existing file is never overwritten (files are created exclusively).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import FaceAnonError
from ..faces.image_io import as_rgb_uint8

FORMATS = {"png": ("PNG", ".png"), "jpeg": ("JPEG", ".jpg"), "webp": ("WEBP", ".webp")}
NAMINGS = ("counter", "content_hash")
HASH_CHARS = 16
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def encode_without_metadata(pixels: np.ndarray, file_format: str = "png", quality: int = 95) -> bytes:
    """The image (HxWx3, uint8 or float 0..1) encoded with no metadata at all."""
    if file_format not in FORMATS:
        raise FaceAnonError(f"file_format: expected one of {', '.join(FORMATS)}, got {file_format!r}")
    if not 1 <= int(quality) <= 100:
        raise FaceAnonError(f"quality: expected 1..100, got {quality!r}")
    image = Image.fromarray(as_rgb_uint8(pixels))
    buffer = io.BytesIO()
    options = {"PNG": {"compress_level": 6}, "JPEG": {"quality": int(quality)},
               "WEBP": {"quality": int(quality), "lossless": int(quality) == 100}}
    pil_format = FORMATS[file_format][0]
    image.save(buffer, pil_format, **options[pil_format])
    return buffer.getvalue()


def save_private_images(
    images: Sequence[np.ndarray],
    folder: str | os.PathLike,
    *,
    prefix: str = "faceanon",
    file_format: str = "png",
    quality: int = 95,
    naming: str = "counter",
    sidecars: Sequence[object] | None = None,
) -> list[Path]:
    """Write each image to `folder` as `<prefix>_<counter or hash><ext>`; returns the paths.

    `sidecars[i]`, when given, is written as JSON next to image i (`<same name>.json`).
    """
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):  # match() would let "evil\n" through
        raise FaceAnonError(f"filename_prefix: use 1-64 letters, digits, '-' or '_' (no paths), got {prefix!r}")
    if naming not in NAMINGS:
        raise FaceAnonError(f"naming: expected one of {', '.join(NAMINGS)}, got {naming!r}")
    if sidecars is not None and len(sidecars) != len(images):
        raise FaceAnonError(f"report: got {len(sidecars)} sidecars for {len(images)} images")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    extension = FORMATS.get(file_format, (None, ""))[1]
    paths = []
    for index, pixels in enumerate(images):
        data = encode_without_metadata(pixels, file_format, quality)
        sidecar = None if sidecars is None else json.dumps(sidecars[index], sort_keys=True, indent=2) + "\n"
        base = hashlib.sha256(data).hexdigest()[:HASH_CHARS] if naming == "content_hash" else None
        path = _write_new(folder, prefix, base, extension, data)
        if sidecar is not None:
            with open(path.with_suffix(".json"), "x", encoding="utf-8") as out:
                out.write(sidecar)
        paths.append(path)
    return paths


def _write_new(folder: Path, prefix: str, base: str | None, extension: str, data: bytes) -> Path:
    """Create the first free name (the image and its would-be sidecar both absent) and write `data`."""
    number = _next_counter(folder, prefix) if base is None else 1
    while True:
        if base is None:
            stem = f"{prefix}_{number:05d}"
        else:
            stem = f"{prefix}_{base}" if number == 1 else f"{prefix}_{base}_{number}"
        path = folder / f"{stem}{extension}"
        if not path.with_suffix(".json").exists():
            try:
                with open(path, "xb") as out:
                    out.write(data)
                return path
            except FileExistsError:
                pass
        number += 1


def _next_counter(folder: Path, prefix: str) -> int:
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d{{5,}})\.")
    numbers = [int(m.group(1)) for name in os.listdir(folder) if (m := pattern.match(name))]
    return max(numbers, default=0) + 1
