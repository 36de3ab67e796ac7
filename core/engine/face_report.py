# SPDX-License-Identifier: AGPL-3.0-or-later
"""The audit record of what happened to each face of a photo, and its deterministic JSON form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional

import numpy as np

if TYPE_CHECKING:
    from ..faces import AlignedFace, Face

TOO_SMALL, GENERATION_FAILED, RECOGNIZABLE = "too small", "generation failed", "still recognizable"
UNALIGNABLE = "cannot be aligned"  # landmarks unusable and the face cut by the border (see faces.landmark_check)
REQUESTED = "requested"  # classic redaction was asked for (faceanon redact, the Redact Faces node)
# The middle of the face's box was left uncovered by its crop (see faces.coverage), so it was redacted by its box.
BY_BOX = "by its box: its crop missed the face"

# "redacted" alone means: redaction was requested, or the face was still recognizable after every retry.
ACTIONS = ("anonymized", "retried", "swapped", "redacted",
           *(f"redacted ({reason})" for reason in (TOO_SMALL, GENERATION_FAILED, UNALIGNABLE, BY_BOX)))
REPORT_KEYS = (
    "action", "attempts", "box", "face_index", "final_degree", "final_seed", "image_index", "no_face_in_output",
    "redaction_method", "similarity_final", "similarity_initial", "threshold", "verified",
)
FLOAT_DIGITS = 4


@dataclass
class FaceRecord:
    """One selected face, as it goes through the stages (see face_stages) and as it is reported.

    `attempts` counts generations (0 when the face was never generated); `similarity_initial` is measured on
    the output of the first attempt and `similarity_final` on the returned image (None when no face was found
    there, or when nothing was verified). The last four fields are the face's data, not its report: the
    detection, its alignment and crop, the new face (None: the face is redacted instead) and the identity
    embedding of the original face, once verification has measured it."""

    image_index: int
    face_index: int
    box: tuple[float, float, float, float]
    seed: int
    degree: float
    attempts: int = 0
    redaction: Optional[str] = None  # None, TOO_SMALL, GENERATION_FAILED, UNALIGNABLE, RECOGNIZABLE, REQUESTED or BY_BOX
    redaction_method: Optional[str] = None  # how it was redacted: blur, pixelate, black or fill
    verified: bool = False
    threshold: Optional[float] = None
    similarity_initial: Optional[float] = None
    similarity_final: Optional[float] = None
    face: Optional["Face"] = field(default=None, repr=False, compare=False)
    aligned: Optional["AlignedFace"] = field(default=None, repr=False, compare=False)
    generated: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    identity: Optional[np.ndarray] = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> tuple[int, int]:
        return self.image_index, self.face_index

    def redact(self, reason: str, method: str) -> None:
        self.redaction, self.redaction_method = reason, method

    @property
    def action(self) -> str:
        if self.redaction in (RECOGNIZABLE, REQUESTED):
            return "redacted"
        if self.redaction is not None:
            return f"redacted ({self.redaction})"
        if self.degree == 0:
            return "swapped"
        return "retried" if self.attempts > 1 else "anonymized"

    @property
    def legacy_action(self) -> str:
        """PhotoResult.actions: "generated" or "redacted (<reason>)"."""
        return "generated" if self.redaction is None else f"redacted ({self.redaction})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "attempts": self.attempts,
            "box": list(self.box),
            "face_index": self.face_index,
            "final_degree": self.degree,
            "final_seed": self.seed,
            "image_index": self.image_index,
            "no_face_in_output": (self.similarity_final is None) if self.verified else None,
            "redaction_method": self.redaction_method,
            "similarity_final": self.similarity_final,
            "similarity_initial": self.similarity_initial,
            "threshold": self.threshold,
            "verified": self.verified,
        }


def report_json(results: Iterable, indent: Optional[int] = 2) -> str:
    """The reports of `results` (PhotoResults, in order) as one JSON list: sorted keys, floats rounded
    to 4 digits, so the same run always gives the same text."""
    entries = [entry for result in results for entry in result.report]
    return json.dumps(_rounded(entries), sort_keys=True, indent=indent)


def _rounded(value):
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value
