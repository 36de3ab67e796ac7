# SPDX-License-Identifier: AGPL-3.0-or-later
"""Affine warping that stays sharp when enlarging and does not alias when shrinking.

`cv2.warpAffine` has no area filter, so a shrinking warp first reduces the part of the source it
reads with `cv2.resize(INTER_AREA)` and then warps the rest of the way at about 1:1.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .framing import invert_affine, transform_points

# Source pixels read beyond the exact footprint, for the interpolation kernel (Lanczos4 reaches 4).
_KERNEL_MARGIN = 4


def warp_affine(
    src: np.ndarray,
    matrix: np.ndarray,
    dsize: tuple[int, int],
    *,
    interpolation: int = cv2.INTER_LANCZOS4,
    border_mode: int = cv2.BORDER_REFLECT_101,
    border_value: float = 0.0,
) -> np.ndarray:
    """Warp `src` by the 2x3 `matrix` (source -> destination pixels) into a `dsize` = (width, height)
    image. `interpolation` is used when enlarging or after the area reduction."""
    matrix = np.asarray(matrix, dtype=np.float64)
    scale = math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    if scale < 1.0:
        src, matrix = _reduce_source(src, matrix, dsize, scale, border_mode)
    warped = cv2.warpAffine(
        src,
        matrix,
        (int(dsize[0]), int(dsize[1])),
        flags=interpolation,
        borderMode=border_mode,
        borderValue=(border_value,) * 4,
    )
    if warped.ndim == 2 and src.ndim == 3:
        warped = warped[:, :, None]
    return warped


def _reduce_source(
    src: np.ndarray, matrix: np.ndarray, dsize: tuple[int, int], scale: float, border_mode: int
) -> tuple[np.ndarray, np.ndarray]:
    """Area-resize the region of `src` that the warp reads by `scale`; return it and the matrix
    from the reduced region to the destination."""
    height, width = src.shape[:2]
    x0, y0, x1, y1 = _source_region(matrix, dsize, width, height, border_mode, _KERNEL_MARGIN / scale)
    region = src[y0:y1, x0:x1]
    new_w, new_h = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    reduced = cv2.resize(region, (new_w, new_h), interpolation=cv2.INTER_AREA)
    if reduced.ndim == 2 and src.ndim == 3:
        reduced = reduced[:, :, None]
    sx, sy = new_w / (x1 - x0), new_h / (y1 - y0)
    # Pixel centres: region pixel u sits at source x0 + u; reduced pixel v covers (v + 0.5) / sx - 0.5.
    reduced_to_src = np.array([[1 / sx, 0, x0 + 0.5 / sx - 0.5], [0, 1 / sy, y0 + 0.5 / sy - 0.5]])
    linear = matrix[:, :2] @ reduced_to_src[:, :2]
    offset = matrix[:, :2] @ reduced_to_src[:, 2] + matrix[:, 2]
    return reduced, np.column_stack([linear, offset])


def _source_region(
    matrix: np.ndarray, dsize: tuple[int, int], width: int, height: int, border_mode: int, margin: float
) -> tuple[int, int, int, int]:
    """Integer bounds (x0, y0, x1, y1), end exclusive, of the source pixels the warp samples,
    including the ones a reflecting border mirrors in from inside the image."""
    w, h = dsize
    footprint = transform_points([(0, 0), (w, 0), (w, h), (0, h)], invert_affine(matrix))
    lo = footprint.min(axis=0) - margin
    hi = footprint.max(axis=0) + margin
    limits = np.array([width - 1, height - 1], dtype=np.float64)
    if border_mode in (cv2.BORDER_REFLECT_101, cv2.BORDER_REFLECT):
        lo, hi = np.minimum(lo, 2 * limits - hi), np.maximum(hi, -lo)
    lo = np.clip(np.floor(lo), 0, limits).astype(int)
    hi = np.clip(np.ceil(hi), 0, limits).astype(int) + 1
    return lo[0], lo[1], hi[0], hi[1]
