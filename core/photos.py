# SPDX-License-Identifier: AGPL-3.0-or-later
"""Faces in the wild: detect, align, generate every selected face in batched UNet calls, paste back.

Fail closed: a selected face that cannot be generated (too small, impossible to align, the sampler
failed, the output was not finite) is redacted instead of being left as it was, or, with ``fail_closed``
off, the call fails.
With a ``Verification``, anonymized faces that face recognition still matches to the original are
generated again and, failing that, redacted too (see ``verified_faces``). Last, every face's middle must
be covered by what replaced it (see ``faces.coverage``): a face whose new crop left it uncovered is
redacted by its box.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .precision import non_finite_advice
from .errors import FaceAnonError
from .face_report import BY_BOX, GENERATION_FAILED, TOO_SMALL, UNALIGNABLE, FaceRecord
from .faces import (
    AlignedFace,
    Detector,
    Face,
    align_faces,
    faces_left_out,
    paste_faces,
    select_faces,
    uncovered_faces,
)
from .face_settings import Compositing, FaceSelection, FailClosed
from .options import BATCH_SIZE, ON_NO_FACE
from .faces.image_io import as_array
from .redacted_faces import redact_recorded_faces
from .seeds import check_seed, offset_seed
from .verified_faces import Verification, verify_and_retry

log = logging.getLogger("faceanon")

FACE_SIZE = 512


@dataclass
class PhotoResult:
    image: np.ndarray  # same dtype and size as the input photo
    mask: np.ndarray  # HxW float32 in 0..1: where pixels were replaced
    faces: list[AlignedFace] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # per face: "generated" or "redacted: <reason>"
    seeds: list[int] = field(default_factory=list)  # per face
    crops: list[Optional[np.ndarray]] = field(default_factory=list)  # per face: the generated 512x512 face
    report: list[dict] = field(default_factory=list)  # per face: the audit record (see face_report)
    not_selected: list[Face] = field(default_factory=list)  # detected, but left out by the selection


def select_detected(
    image: np.ndarray, detector: Detector, selection: FaceSelection, mask: Optional[np.ndarray] = None
) -> tuple[list[Face], list[Face]]:
    """The faces of ``image`` that ``selection`` keeps, in its order, and the detected ones it leaves out
    (so that they can be reported: an untouched face must never go unmentioned)."""
    detected = detector.detect(image)
    kept = select_faces(
        detected,
        min_score=selection.min_score,
        min_size=selection.min_size,
        max_faces=selection.max_faces,
        order=selection.order,
        indices=selection.indices,
        mask=mask,
    )
    return kept, faces_left_out(detected, kept)


def find_faces(
    images: Sequence[np.ndarray],
    detector: Detector,
    selection: FaceSelection,
    framing: str = "whole_face",
    masks: Optional[Sequence[Optional[np.ndarray]]] = None,
) -> list[list[AlignedFace]]:
    """Detected, selected and aligned faces of each image."""
    masks = [None] * len(images) if masks is None else masks
    return [align_faces(image, select_detected(image, detector, selection, mask)[0], framing, FACE_SIZE)
            for image, mask in zip(images, masks)]


def check_no_face_policy(on_no_face: str) -> str:
    if on_no_face not in ON_NO_FACE:
        raise FaceAnonError(f"on_no_face: expected one of {', '.join(ON_NO_FACE)}, got {on_no_face!r}")
    return on_no_face


def no_face(index: int, on_no_face: str) -> None:
    """Apply the ``on_no_face`` policy to image ``index``, which has no selected face."""
    if check_no_face_policy(on_no_face) == "error":
        raise FaceAnonError(f"image {index}: no face found (on_no_face is 'error')")
    log.warning("FaceAnon: no face found in image %d; it passes through unchanged", index)


def largest_face_crop(image: np.ndarray, detector: Detector, framing: str, name: str = "source") -> np.ndarray:
    """The aligned crop of the largest face in ``image``, for use as a swap source."""
    faces = select_faces(detector.detect(image), order="largest", max_faces=1)
    if not faces:
        raise FaceAnonError(f"{name}: no face found in the source image")
    return align_faces(image, faces, framing, FACE_SIZE)[0].image


def generate_faces(
    pipe,
    crops: Sequence[np.ndarray],
    seeds: Sequence[int],
    *,
    degree: float,
    source_crop: Optional[np.ndarray] = None,
    guidance: float,
    steps: int,
    scheduler: str,
    batch_size: int = BATCH_SIZE.default,
    fail_closed: bool = False,
    callback: Optional[Callable[[int, int, torch.Tensor], None]] = None,
) -> list[Optional[np.ndarray]]:
    """Generated 512x512 float32 faces for ``crops``, ``batch_size`` faces per UNet call.

    Crop i uses ``seeds[i]`` however faces are batched; UNet calls of another size may round differently
    (±1 in 8-bit values, see the README on batching). With ``fail_closed`` a chunk whose sampling fails,
    or a face whose output is not finite, gives None.
    """
    if batch_size < 1:
        raise FaceAnonError(f"batch_size must be >= 1, got {batch_size}")
    if degree == 0 and source_crop is None:
        raise FaceAnonError("source: a swap (degree 0) needs a source face")
    source = None if degree > 0 else pipe.blend(pipe.encode(source_crop, FACE_SIZE, FACE_SIZE, "source"), 0.0)
    starts = range(0, len(crops), batch_size)
    generated: list[Optional[np.ndarray]] = []
    for number, start in enumerate(starts):
        chunk = range(start, min(start + batch_size, len(crops)))

        def chunk_progress(step, total, x0, offset=number * steps):
            if callback is not None:
                callback(offset + step, len(starts) * steps, x0)

        try:
            driving = pipe.encode([crops[i] for i in chunk], FACE_SIZE, FACE_SIZE, "face")
            latents = pipe.sample(
                source if source is not None else pipe.blend(driving, degree), driving, seed=[seeds[i] for i in chunk],
                steps=steps, guidance=guidance, scheduler=scheduler, callback=chunk_progress,
            )
            images = list(pipe.decode(latents).permute(0, 2, 3, 1).cpu().numpy())
        except (FaceAnonError, RuntimeError) as error:
            if not fail_closed:
                raise
            log.warning("FaceAnon: generating faces %s failed (%s); they will be redacted", list(chunk), error)
            images = [None] * len(chunk)
        for image in images:
            if image is not None and not np.isfinite(image).all():
                if not fail_closed:
                    advice = non_finite_advice(getattr(pipe, "dtype", None))
                    raise FaceAnonError(f"generation produced non-finite pixels {advice}; or enable fail_closed")
                image = None
            generated.append(image)
    return generated


def process_photos(
    pipe,
    images: Sequence,
    detector: Detector,
    *,
    degree: float,
    source: Optional[object] = None,
    guidance: float,
    steps: int,
    seed: int,
    scheduler: str,
    framing: str = "whole_face",
    selection: Optional[FaceSelection] = None,
    compositing: Optional[Compositing] = None,
    fail_closed: Optional[FailClosed] = None,
    on_no_face: str = "passthrough",
    masks: Optional[Sequence[Optional[np.ndarray]]] = None,
    batch_size: int = BATCH_SIZE.default,
    callback=None,
    verification: Optional[Verification] = None,
) -> list[PhotoResult]:
    """Anonymize (degree > 0) or swap ``source`` onto (degree 0) every selected face of every image.

    Face j of an image uses seed + j (j in the selection order), whatever the batch or batch size.
    ``verification`` checks every anonymized face and retries or redacts the recognizable ones; it is
    skipped for swaps, where the output is meant to be someone else.
    """
    check_no_face_policy(on_no_face)
    seed = check_seed(seed)
    arrays = [as_array(image, "image" if len(images) == 1 else f"image {i}") for i, image in enumerate(images)]
    selection, compositing = selection or FaceSelection(), compositing or Compositing()
    fail_closed = fail_closed or FailClosed()
    chosen = [select_detected(image, detector, selection, None if masks is None else masks[i])
              for i, image in enumerate(arrays)]
    per_image = [align_faces(image, kept, framing, FACE_SIZE) for image, (kept, _) in zip(arrays, chosen)]
    for index, faces in enumerate(per_image):
        if not faces:
            no_face(index, on_no_face)
    source_crop = None
    if degree == 0:
        if source is None:
            raise FaceAnonError("source: a swap (degree 0) needs a source image")
        source_crop = largest_face_crop(as_array(source, "source"), detector, framing)
    records = {(i, j): FaceRecord(i, j, face.face.box, offset_seed(seed, j), degree)
               for i, faces in enumerate(per_image) for j, face in enumerate(faces)}
    unalignable = {key for key in records if per_image[key[0]][key[1]].face.alignment == "none"}
    if unalignable and not fail_closed.enabled:
        i, j = min(unalignable)
        raise FaceAnonError(f"image {i}, face {j}: it cannot be aligned (its landmarks are unusable and it is cut "
                            f"by the border); enable fail_closed to redact such faces")
    todo = [(i, j) for i, j in records if (i, j) not in unalignable
            and (per_image[i][j].face.size >= fail_closed.min_face_size or not fail_closed.enabled)]

    def generate(keys, seeds, face_degree):
        return generate_faces(
            pipe, [per_image[i][j].image for i, j in keys], seeds, degree=face_degree, source_crop=source_crop,
            guidance=guidance, steps=steps, scheduler=scheduler, batch_size=batch_size,
            fail_closed=fail_closed.enabled, callback=callback,
        )

    crops = dict(zip(todo, generate(todo, [records[key].seed for key in todo], degree)))
    for key, record in records.items():
        record.attempts = int(key in crops)
        if key not in crops:
            record.redact(UNALIGNABLE if key in unalignable else TOO_SMALL, fail_closed.method)
        elif crops[key] is None:
            record.redact(GENERATION_FAILED, fail_closed.method)

    def compose(i):
        keys = [(i, j) for j in range(len(per_image[i]))]
        return _composite(arrays[i], per_image[i], [crops.get(key) for key in keys],
                          [records[key] for key in keys], framing, compositing)

    def cover(i, mask) -> bool:
        """Mark the generated faces of photo i whose middle `mask` leaves uncovered to be redacted by their box."""
        uncovered = uncovered_faces([aligned.face for aligned in per_image[i]], mask)
        missed = [(i, j) for j in uncovered if crops.get((i, j)) is not None]
        if missed and not fail_closed.enabled:
            raise FaceAnonError(f"image {i} face {missed[0][1]}: the new face does not cover the middle of the "
                                "detected face; turn fail_closed on to redact such faces by their box")
        for key in missed:
            crops[key] = None
            records[key].redact(BY_BOX, fail_closed.method)
        return bool(missed)

    if verification is not None and degree > 0:
        composites = verify_and_retry(verification, arrays, per_image, records, crops, degree=degree,
                                      regenerate=generate, compose=compose, fail_closed=fail_closed, cover=cover)
    else:
        if verification is not None:
            log.info("FaceAnon: identity verification is skipped for swaps (degree 0)")
        composites = [compose(i) for i in range(len(arrays))]
        composites = [compose(i) if cover(i, mask) else (image, mask) for i, (image, mask) in enumerate(composites)]
    return [_result(composites[i], per_image[i], [records[i, j] for j in range(len(per_image[i]))], crops,
                    chosen[i][1]) for i in range(len(arrays))]


def _composite(array, faces, crops, records: Sequence[FaceRecord], framing, compositing: Compositing):
    """Paste the generated faces, then redact each face that has no crop as its record says; (image, mask)."""
    done = [(face, crop) for face, crop in zip(faces, crops) if crop is not None]
    image, mask = paste_faces(array, [f for f, _ in done], [c for _, c in done], feather=compositing.feather,
                              grow=compositing.grow, color_match=compositing.color_match)
    failed = [j for j, crop in enumerate(crops) if crop is None]
    image, redacted = redact_recorded_faces(image, [faces[j].face for j in failed], [records[j] for j in failed],
                                            framing)
    return image, np.maximum(mask, redacted)


def _result(composite, faces, records: list[FaceRecord], crops, not_selected) -> PhotoResult:
    image, mask = composite
    return PhotoResult(
        image, mask, list(faces), [r.legacy_action for r in records], [r.seed for r in records],
        [crops.get(r.key) for r in records], [r.as_dict() for r in records], list(not_selected),
    )
