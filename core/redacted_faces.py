# SPDX-License-Identifier: AGPL-3.0-or-later
"""Classic redaction of the faces of a photo, with the same audit record and safety nets as anonymization.

Each face is redacted with its record's method, by its box when its crop missed it (see
``faces.coverage``). With a ``Verification``, every face is then measured by face recognition and one
that is still matched is blacked out, as ``verified_faces`` does for the redactions of anonymization.
Imports neither torch nor the diffusion model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np

from .face_report import BY_BOX, REQUESTED, FaceRecord
from .faces import REDACTION_METHODS, Face, box_face, redact_faces_covered
from .faces.image_io import ImageLike, as_array
from .errors import FaceAnonError
from .verified_faces import Verification, verify_redactions


@dataclass
class RedactedPhoto:
    image: np.ndarray  # same dtype and size as the input photo
    mask: np.ndarray  # HxW float32 in 0..1: where pixels were replaced
    records: list[FaceRecord]  # per face: what was done (see face_report)

    @property
    def report(self) -> list[dict]:
        return [record.as_dict() for record in self.records]


def redact_recorded_faces(
    image: np.ndarray, faces: Sequence[Face], records: Sequence[FaceRecord], framing: str
) -> tuple[np.ndarray, np.ndarray]:
    """Redact each face with its record's method, by its box when its record says so; (image, mask).

    A face whose own crop missed it is redacted by its box, and its record says so from then on."""
    mask = np.zeros(image.shape[:2], np.float32)
    for method in dict.fromkeys(record.redaction_method for record in records):
        chosen = [j for j, record in enumerate(records) if record.redaction_method == method]
        targets = [box_face(faces[j]) if records[j].redaction == BY_BOX else faces[j] for j in chosen]
        redaction = redact_faces_covered(image, targets, method, framing)
        image, mask = redaction.image, np.maximum(mask, redaction.mask)
        for k in redaction.by_box:
            records[chosen[k]].redact(BY_BOX, method)
    return image, mask


def redact_photo(
    image: ImageLike,
    faces: Sequence[Face],
    method: str = "blur",
    framing: str = "whole_face",
    *,
    verification: Optional[Verification] = None,
    image_index: int = 0,
) -> RedactedPhoto:
    """Redact `faces` of `image` with `method`; with `verification`, black out those still recognizable."""
    if method not in REDACTION_METHODS:
        raise FaceAnonError(f"method: expected one of {', '.join(REDACTION_METHODS)}, got {method!r}")
    array = as_array(image)
    records = [FaceRecord(image_index, j, face.box, seed=0, degree=0.0) for j, face in enumerate(faces)]
    for record in records:
        record.redact(REQUESTED, method)

    def compose(_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
        return redact_recorded_faces(array, faces, records, framing)

    if verification is not None and faces:
        ((result, mask),) = verify_redactions(
            verification, [array], [list(faces)], {(0, j): record for j, record in enumerate(records)}, compose
        )
    else:
        result, mask = compose()
    if isinstance(image, np.ndarray) and image.ndim == 2:
        result = result[:, :, 0]
    return RedactedPhoto(result, mask, records)
