# SPDX-License-Identifier: AGPL-3.0-or-later
"""Choosing which detected faces to process, and in which order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import FaceAnonError
from ..options import FACE_ORDERS  # noqa: F401 - listed with every option
from .face import Face

_SORT_KEYS = {
    "largest": lambda face: -face.area,
    "left_to_right": lambda face: face.center[0],
    "right_to_left": lambda face: -face.center[0],
    "top_to_bottom": lambda face: face.center[1],
}


def parse_face_indices(indices: str | Sequence[int] | None) -> list[int] | None:
    """"0, 2" -> [0, 2]; None or a blank string -> None (all faces). Duplicates are dropped."""
    if indices is None:
        return None
    if isinstance(indices, str):
        if not indices.strip():
            return None
        tokens = [token.strip() for token in indices.split(",")]
    else:
        tokens = list(indices)
    parsed: list[int] = []
    for token in tokens:
        try:
            value = int(token)
            if isinstance(token, float) and token != value:
                raise ValueError
        except (TypeError, ValueError):
            raise FaceAnonError(
                f"face indices {indices!r}: {token!r} is not a whole number; "
                'write indices as a comma-separated list such as "0,2"'
            ) from None
        if value < 0:
            raise FaceAnonError(f"face indices {indices!r}: {value} is negative; indices start at 0")
        if value not in parsed:
            parsed.append(value)
    return parsed


def select_faces(
    faces: Sequence[Face],
    *,
    min_score: float = 0.0,
    min_size: float = 0.0,
    max_faces: int = 0,
    order: str = "largest",
    indices: str | Sequence[int] | None = None,
    mask: np.ndarray | None = None,
) -> list[Face]:
    """Filter and order faces.

    Faces below `min_score` or whose longer box side is under `min_size` px are dropped, and so are
    faces whose box centre is not inside `mask` (HxW, same size as the image; inside means > 0.5).
    The rest are sorted by `order`; then `indices` (positions in that order, e.g. "0,2") picks some,
    and `max_faces` (0 = no limit) keeps the first ones.
    """
    if order not in _SORT_KEYS:
        raise FaceAnonError(f"unknown face order {order!r}; expected one of {', '.join(FACE_ORDERS)}")
    if max_faces < 0:
        raise FaceAnonError(f"max_faces must be >= 0 (0 means no limit), got {max_faces}")
    wanted = parse_face_indices(indices)
    kept = [f for f in faces if f.score >= min_score and f.size >= min_size]
    if mask is not None:
        region = _as_2d_mask(mask)
        kept = [f for f in kept if _centre_inside(f, region)]
    kept.sort(key=_SORT_KEYS[order])
    if wanted is not None:
        out_of_range = [i for i in wanted if i >= len(kept)]
        if out_of_range:
            raise FaceAnonError(
                f"face indices {indices!r}: {', '.join(map(str, out_of_range))} out of range; "
                f"{len(kept)} face(s) remain after filtering, so valid indices are "
                + (f"0 to {len(kept) - 1}" if kept else "none")
            )
        kept = [kept[i] for i in wanted]
    return kept[:max_faces] if max_faces else kept


def faces_left_out(detected: Sequence[Face], selected: Sequence[Face]) -> list[Face]:
    """The detected faces a selection did not keep, in detection order: they stay untouched, so they
    must at least be reported."""
    return [face for face in detected if all(face is not kept for kept in selected)]


def _as_2d_mask(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    squeezed = mask.reshape([d for d in mask.shape if d != 1] or [1, 1]) if mask.ndim > 2 else mask
    if squeezed.ndim != 2:
        raise FaceAnonError(f"mask must be HxW (or HxWx1), got shape {mask.shape}")
    return squeezed


def _centre_inside(face: Face, mask: np.ndarray) -> bool:
    x, y = (int(np.floor(v)) for v in face.center)
    height, width = mask.shape
    return 0 <= x < width and 0 <= y < height and float(mask[y, x]) > 0.5
