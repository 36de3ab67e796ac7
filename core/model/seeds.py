# SPDX-License-Identifier: AGPL-3.0-or-later
"""Seeds: what a valid one is, and how the seeds of faces, batch items and retries derive from it.

Torch-free, so the redaction path can use it without importing torch.
"""

from __future__ import annotations

import numbers

from ..errors import FaceAnonError
from ..options import MAX_SEED  # noqa: F401 - its home is options.py


def check_seed(seed, name: str = "seed") -> int:
    """A seed is an integer in 0..MAX_SEED: no bool, no 1.5, no "7" (which would silently become 7)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
        raise FaceAnonError(f"{name} must be an integer in 0..{MAX_SEED}, got {seed!r}")
    return int(seed)


def offset_seed(seed: int, offset: int) -> int:
    """seed + offset, wrapped into 0..MAX_SEED: the seeds derived for the faces, batch items and retries
    of a large seed stay valid, instead of failing (and the faces being redacted) because of the argument."""
    return (int(seed) + int(offset)) % (MAX_SEED + 1)
