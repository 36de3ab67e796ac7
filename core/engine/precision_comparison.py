# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a faster precision changes, measured on the user's own photos with the real weights.

The same photos are anonymized with the same seed once in fp32 (the parity reference) and once in the other
precision. For every face the identity recognizer (SFace) then says how alike the two new faces are, and how
far each is from the original person. ``faceanon doctor --compare-precision PHOTO...`` prints it.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from ..faces.image_io import as_rgb_uint8
from ..model.precision import dtype_name
from .verification import IdentityVerifier, cosine_similarity


@dataclass(frozen=True)
class FaceAgreement:
    """One face of one photo, generated in fp32 and in ``precision``."""

    photo: str
    face: int
    face_px: int  # the detected face's size
    precision: str
    between_results: float  # SFace cosine similarity of the two generated faces
    fp32_to_original: float
    other_to_original: float
    largest_change: int  # the largest difference of an 8-bit value between the two results


def compare_precisions(
    load_pipeline: Callable[[torch.dtype], object],
    photos: Sequence[tuple[str, np.ndarray]],
    detector,
    verifier: IdentityVerifier,
    precision: torch.dtype = torch.bfloat16,
    steps: int = 25,
    seed: int = 0,
) -> list[FaceAgreement]:
    """Anonymize ``photos`` (name, HxWx3 pixels) in fp32 and in ``precision``; one record per face.

    ``load_pipeline(dtype)`` gives a FaceAnonPipeline; one is held at a time, as the real model is large.
    """
    results = {}
    for dtype in (torch.float32, precision):
        pipe = load_pipeline(dtype)
        results[dtype] = [pipe.anonymize_faces(pixels, detector, steps=steps, seed=seed) for _, pixels in photos]
        del pipe
        gc.collect()
    agreements = []
    for (name, original), reference, other in zip(photos, results[torch.float32], results[precision]):
        (reference_image, _, faces), (other_image, _, _) = reference, other
        change = np.abs(as_rgb_uint8(reference_image).astype(np.int16) - as_rgb_uint8(other_image)).max(initial=0)
        for index, face in enumerate(faces):
            original_identity = verifier.embed(original, face)
            reference_identity = verifier.embed(reference_image, face)
            other_identity = verifier.embed(other_image, face)
            agreements.append(FaceAgreement(
                photo=name, face=index, face_px=round(face.size), precision=dtype_name(precision),
                between_results=cosine_similarity(reference_identity, other_identity),
                fp32_to_original=cosine_similarity(reference_identity, original_identity),
                other_to_original=cosine_similarity(other_identity, original_identity),
                largest_change=int(change),
            ))
    return agreements
