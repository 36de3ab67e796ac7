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

from ..errors import FaceAnonError
from ..faces import REDACTION_METHODS, Face
from ..faces.image_io import ImageLike, as_array
from .face_report import REQUESTED, FaceRecord
from .face_settings import Rendering
from .face_stages import PhotoFaces, compose, redact_recorded_faces  # noqa: F401 - also its home before 0.3
from .verified_faces import Verification, verify_redactions


@dataclass
class RedactedPhoto:
    image: np.ndarray  # same dtype and size as the input photo
    mask: np.ndarray  # HxW float32 in 0..1: where pixels were replaced
    records: list[FaceRecord]  # per face: what was done (see face_report)

    @property
    def report(self) -> list[dict]:
        return [record.as_dict() for record in self.records]


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
    records = [FaceRecord(image_index, j, face.box, seed=0, degree=0.0, face=face) for j, face in enumerate(faces)]
    for record in records:
        record.redact(REQUESTED, method)
    photo = PhotoFaces(image_index, array, records)
    if verification is not None and faces:
        verify_redactions(verification, [photo], Rendering(framing))
    else:
        compose(photo, Rendering(framing))
    result, mask = photo.image, photo.mask
    if isinstance(image, np.ndarray) and image.ndim == 2:
        result = result[:, :, 0]
    return RedactedPhoto(result, mask, records)
