# SPDX-License-Identifier: AGPL-3.0-or-later
"""Settings objects of the in-the-wild path: which faces, how they are blended back, what happens to a face that
cannot be generated. Nodes, the CLI and the Python API each build them once and pass them down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..errors import FaceAnonError
from ..faces import REDACTION_METHODS
from ..options import (
    BATCH_SIZE,
    COLOR_MATCH,
    DEGREE,
    FAIL_CLOSED,
    FALLBACK,
    FEATHER,
    FRAMING,
    GROW,
    GUIDANCE,
    MAX_FACES,
    MIN_SIZE,
    ORDER,
    SCHEDULER,
    SEED,
    STEPS,
)


@dataclass
class Generation:
    """How new faces are generated: face j of every photo uses seed + j; ``batch_size`` faces per UNet call."""

    degree: float = DEGREE.default
    steps: int = STEPS.default
    guidance: float = GUIDANCE.default
    scheduler: str = SCHEDULER.default
    seed: int = SEED.default
    batch_size: int = BATCH_SIZE.default


@dataclass
class FaceSelection:
    """Which detected faces to process (see ``faces.select_faces``)."""

    min_score: float = 0.0
    min_size: float = MIN_SIZE.default
    max_faces: int = MAX_FACES.default
    order: str = ORDER.default
    indices: Optional[str] = None


@dataclass
class Compositing:
    """How generated faces are blended back (see ``faces.paste_faces``)."""

    feather: float = FEATHER.default
    grow: float = GROW.default
    color_match: bool = COLOR_MATCH.default


@dataclass
class FailClosed:
    """What happens to a face that cannot be generated: redacted with ``method``, or, when disabled, an error.

    Faces whose box is under ``min_face_size`` px are redacted: there is too little of them to generate.
    """

    enabled: bool = FAIL_CLOSED.default
    method: str = FALLBACK.default
    min_face_size: float = 12.0

    def __post_init__(self):
        if self.method not in REDACTION_METHODS:
            raise FaceAnonError(f"fallback: expected one of {', '.join(REDACTION_METHODS)}, got {self.method!r}")


@dataclass
class Rendering:
    """How a photo's new faces are put in it: the crop framing and the compositing settings."""

    framing: str = FRAMING.default
    compositing: Compositing = field(default_factory=Compositing)
