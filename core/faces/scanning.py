# SPDX-License-Identifier: AGPL-3.0-or-later
"""Running a detector over an image at several scales, padded, and in tiles when the image is large.

A detector sees faces in a range of sizes, so the image is scanned at several scales. Each scaled
image is padded first, so that a face cut by the border still has its centre inside what the
network sees. Scaled images with a side over the tiling's limit are cut into the fewest overlapping
tiles under it, which bounds the memory a pass needs. A face is kept from the tile whose core (the
tile less half the overlap on each inner side) holds its centre, so a face on a tile boundary is
taken whole from the neighbour instead of cut in two.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .detections import Detections

DetectWindow = Callable[[np.ndarray], Detections]
PAD_VALUE = (127, 127, 127)  # mid grey: no edge, no content for the network to take for a face
MIN_VISIBLE = 0.25  # a face must have this much of its box inside the image


@dataclass(frozen=True)
class ScanPass:
    """One scale: the image's long side becomes ``long_side`` px, but the scale stays between
    ``min_scale`` (1: never below the image's own size, which is then tiled when large) and
    ``max_upscale``. ``pad`` is the border added around the scaled image, as a fraction of its long side."""

    long_side: int
    pad: float = 0.0
    max_upscale: float = 1.0
    min_scale: float = 0.0

    def scale_for(self, shape: tuple[int, int]) -> float:
        return min(max(self.long_side / max(shape), self.min_scale), self.max_upscale)


@dataclass(frozen=True)
class Tiling:
    max_side: int  # tiles are at most this many px wide and high
    overlap: int  # px shared by neighbouring tiles: at least the largest face the pass should find whole


def scan(
    rgb: np.ndarray,
    detect_window: DetectWindow,
    passes: Sequence[ScanPass],
    *,
    tiling: Tiling | None = None,
    multiple: int = 1,
) -> Detections:
    """Candidates of every pass, in the pixels of `rgb` (HxWx3 uint8), not yet suppressed.

    `detect_window` runs the network on an RGB window; `multiple` is what the network's input sides
    must be a multiple of (the window is padded up to it)."""
    height, width = rgb.shape[:2]
    found = []
    for scan_pass in passes:
        scale = scan_pass.scale_for((height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        scaled = rgb if size == (width, height) else cv2.resize(rgb, size, interpolation=interpolation)
        pad = int(round(scan_pass.pad * max(size)))
        for window in windows(scaled, pad, tiling, multiple):
            hits = window.in_core(detect_window(window.pixels))
            if len(hits):
                hits = hits.mapped(1.0, 1.0, window.left - pad, window.top - pad)
                found.append(hits.mapped(width / size[0], height / size[1]))
    return keep_visible(Detections.concatenate(found), (height, width))


def keep_visible(found: Detections, shape: tuple[int, int]) -> Detections:
    """Drop candidates lying mostly in the padding: less than MIN_VISIBLE of their box in the image."""
    if not len(found):
        return found
    height, width = shape
    boxes = found.boxes
    inside_w = np.clip(np.minimum(boxes[:, 2], width) - np.maximum(boxes[:, 0], 0), 0, None)
    inside_h = np.clip(np.minimum(boxes[:, 3], height) - np.maximum(boxes[:, 1], 0), 0, None)
    area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-9)
    return found.take(np.flatnonzero(inside_w * inside_h / area >= MIN_VISIBLE))


@dataclass(frozen=True)
class _Window:
    pixels: np.ndarray
    left: int  # position in the padded image
    top: int
    core: tuple[float, float, float, float]  # (x0, y0, x1, y1) in window pixels

    def in_core(self, found: Detections) -> Detections:
        """The candidates whose box centre lies in the core: the ones this window reports."""
        if not len(found):
            return found
        centres = (found.boxes[:, :2] + found.boxes[:, 2:]) / 2.0
        x0, y0, x1, y1 = self.core
        inside = (centres[:, 0] >= x0) & (centres[:, 0] < x1) & (centres[:, 1] >= y0) & (centres[:, 1] < y1)
        return found.take(np.flatnonzero(inside))


def windows(scaled: np.ndarray, pad: int, tiling: Tiling | None, multiple: int):
    """Windows covering `scaled` padded by `pad` px: all of it, or tiles, each padded up to `multiple`."""
    height, width = scaled.shape[0] + 2 * pad, scaled.shape[1] + 2 * pad
    columns, tile_w = _tile_layout(width, tiling, multiple)
    rows, tile_h = _tile_layout(height, tiling, multiple)
    half = tiling.overlap / 2.0 if tiling else 0.0
    for row, top in enumerate(_starts(height, tile_h, rows)):
        for column, left in enumerate(_starts(width, tile_w, columns)):
            core = (  # open on the outer sides
                -math.inf if column == 0 else half,
                -math.inf if row == 0 else half,
                math.inf if column == columns - 1 else tile_w - half,
                math.inf if row == rows - 1 else tile_h - half,
            )
            yield _Window(padded_crop(scaled, pad, left, top, tile_w, tile_h), left, top, core)


def _tile_layout(length: int, tiling: Tiling | None, multiple: int) -> tuple[int, int]:
    """(number of tiles, tile length) along one side: the fewest tiles within the limit."""
    if tiling is None or length <= tiling.max_side:
        return 1, _round_up(length, multiple)
    count = math.ceil((length - tiling.overlap) / (tiling.max_side - tiling.overlap))
    return count, _round_up(math.ceil((length + (count - 1) * tiling.overlap) / count), multiple)


def _starts(length: int, tile: int, count: int) -> list[int]:
    if count == 1:
        return [0]
    step = (length - tile) / (count - 1)
    return [int(round(i * step)) for i in range(count)]


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def padded_crop(scaled: np.ndarray, pad: int, left: int, top: int, width: int, height: int) -> np.ndarray:
    """The (width x height) window at (left, top) of `scaled` padded by `pad` on every side with
    PAD_VALUE (and further on the right and bottom when the window reaches past the padded image)."""
    src_h, src_w = scaled.shape[:2]
    x0, y0 = left - pad, top - pad  # window origin in `scaled` pixels
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(src_w, x0 + width), min(src_h, y0 + height)
    if cx0 >= cx1 or cy0 >= cy1:
        return np.full((height, width, 3), PAD_VALUE, np.uint8)
    crop = scaled[cy0:cy1, cx0:cx1]
    before_x, before_y = cx0 - x0, cy0 - y0
    after_x, after_y = width - before_x - crop.shape[1], height - before_y - crop.shape[0]
    if before_x == before_y == after_x == after_y == 0:
        return np.ascontiguousarray(crop)
    return cv2.copyMakeBorder(crop, before_y, after_y, before_x, after_x, cv2.BORDER_CONSTANT, value=PAD_VALUE)
