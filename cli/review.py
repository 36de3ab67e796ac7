# SPDX-License-Identifier: AGPL-3.0-or-later
"""``--review DIR``: the review overlay of each result, to check by eye that no face was missed.

The overlay is drawn on the result, not on the input: a missed face shows there unboxed, and the
review folder holds no more original faces than the results do. Files are created, never replaced.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

SUFFIX = ".review.png"
MAX_ATTEMPTS = 1000


def review_path(review_dir: Path, relative: Path, attempt: int) -> Path:
    """<review_dir>/<relative>.review.png, then .review-1.png, .review-2.png, ... for later attempts."""
    suffix = SUFFIX if attempt == 0 else f".review-{attempt}.png"
    return review_dir / relative.parent / (relative.name + suffix)


def write_review(review_dir: str | Path, relative: Path, pixels: np.ndarray, faces) -> Path:
    """Draw `faces` on `pixels` (HxWxC uint8) and write it under `review_dir` at a name no file has yet."""
    from ..core.faces import review_overlay

    overlay = review_overlay(pixels[:, :, :3] if pixels.shape[2] >= 3 else pixels, faces)
    data = io.BytesIO()
    Image.fromarray(overlay).save(data, format="PNG")
    for attempt in range(MAX_ATTEMPTS):
        path = review_path(Path(review_dir).expanduser(), relative, attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "xb") as file:  # "x": fails instead of replacing a file that is there
                file.write(data.getvalue())
            return path
        except FileExistsError:
            continue
    raise OSError(f"no free name for the review of {relative} in {review_dir}")
