# SPDX-License-Identifier: AGPL-3.0-or-later
"""The stages every face of a photo goes through, as plain functions over plain records (no torch here).

1. find: detect, select and align (``find_photo_faces``);
2. plan: which faces can be generated, the others marked for redaction (``plan_faces``);
3. generate, batched across all photos (``generate_records``);
4. compose: paste the new faces, redact the others (``compose``);
5. cover: a face whose middle is left uncovered is redacted by its box (``cover``);
6. verify and retry (``verified_faces``);
7. report: ``FaceRecord.as_dict``.

Each stage reads and writes ``PhotoFaces`` and their ``FaceRecord``s: numpy arrays and dataclasses, no closures
and no open handles, so that a stage can run in another process. ``photos.process_photos`` runs them in order.
The diffusion pipeline is a dependency of the generate stage only, and never calls back into the stages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional, Sequence

import numpy as np

from ..errors import FaceAnonError
from ..faces import (
    Detector,
    Face,
    align_faces,
    box_face,
    faces_left_out,
    redact_faces_covered,
    select_faces,
    uncovered_faces,
)
from ..faces.paste import paste_pixels
from ..model.seeds import offset_seed
from ..options import ON_NO_FACE
from .face_report import BY_BOX, GENERATION_FAILED, TOO_SMALL, UNALIGNABLE, FaceRecord
from .face_settings import FaceSelection, FailClosed, Generation, Rendering

if TYPE_CHECKING:
    import torch

log = logging.getLogger("faceanon")

FACE_SIZE = 512
ProgressCallback = Callable[[int, int, "torch.Tensor"], None]


@dataclass
class PhotoFaces:
    """A photo in the stages: its pixels, a record per selected face and, once composed, the result."""

    index: int
    original: np.ndarray
    records: list[FaceRecord]
    not_selected: list[Face] = field(default_factory=list)  # detected, but left out by the selection
    image: Optional[np.ndarray] = None  # the composite, same dtype and size as `original`
    mask: Optional[np.ndarray] = None  # HxW float32 in 0..1: where pixels were replaced


# -- 1. find -------------------------------------------------------------------------------------------------
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


def find_photo_faces(
    index: int, image: np.ndarray, detector: Detector, selection: FaceSelection, framing: str,
    generation: Generation, mask: Optional[np.ndarray] = None,
) -> PhotoFaces:
    """Detect, select and align the faces of photo ``index``; face j gets seed + j."""
    kept, left_out = select_detected(image, detector, selection, mask)
    records = [FaceRecord(index, j, aligned.face.box, offset_seed(generation.seed, j), generation.degree,
                          face=aligned.face, aligned=aligned)
               for j, aligned in enumerate(align_faces(image, kept, framing, FACE_SIZE))]
    return PhotoFaces(index, image, records, list(left_out))


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


# -- 2. plan -------------------------------------------------------------------------------------------------
def plan_faces(photos: Sequence[PhotoFaces], fail_closed: FailClosed) -> list[FaceRecord]:
    """The records to generate. The others are marked for redaction: faces that cannot be aligned, and faces
    under ``fail_closed.min_face_size`` px, with too little of them to generate (unless failing closed is off,
    when an unalignable face is an error instead)."""
    records = [record for photo in photos for record in photo.records]
    unalignable = [record for record in records if record.face.alignment == "none"]
    if unalignable and not fail_closed.enabled:
        first = unalignable[0]
        raise FaceAnonError(f"image {first.image_index}, face {first.face_index}: it cannot be aligned (its landmarks "
                            "are unusable and it is cut by the border); enable fail_closed to redact such faces")
    todo = []
    for record in records:
        if record.face.alignment == "none":
            record.redact(UNALIGNABLE, fail_closed.method)
        elif record.face.size < fail_closed.min_face_size and fail_closed.enabled:
            record.redact(TOO_SMALL, fail_closed.method)
        else:
            todo.append(record)
    return todo


# -- 3. generate ---------------------------------------------------------------------------------------------
def generate_faces(
    pipe,
    crops: Sequence[np.ndarray],
    seeds: Sequence[int],
    generation: Generation,
    *,
    source_crop: Optional[np.ndarray] = None,
    fail_closed: bool = False,
    callback: Optional[ProgressCallback] = None,
) -> list[Optional[np.ndarray]]:
    """Generated 512x512 float32 faces for ``crops``, ``generation.batch_size`` faces per UNet call.

    Crop i uses ``seeds[i]`` (``generation.seed`` is not used) however faces are batched; UNet calls of
    another size may round differently (±1 in 8-bit values, see the README on batching). With ``fail_closed``
    a chunk whose sampling fails, or a face whose output is not finite, gives None.
    """
    degree, steps, batch_size = generation.degree, generation.steps, generation.batch_size
    if batch_size < 1:
        raise FaceAnonError(f"batch_size must be >= 1, got {batch_size}")
    if degree == 0 and source_crop is None:
        raise FaceAnonError("source: a swap (degree 0) needs a source face")
    source = None if degree > 0 else pipe.blend(pipe.encode(source_crop, FACE_SIZE, FACE_SIZE, "source"), 0.0)
    starts = range(0, len(crops), batch_size)
    generated: list[Optional[np.ndarray]] = []
    for number, start in enumerate(starts):
        chunk = range(start, min(start + batch_size, len(crops)))
        progress = _ChunkProgress(callback, number * steps, len(starts) * steps)
        try:
            driving = pipe.encode([crops[i] for i in chunk], FACE_SIZE, FACE_SIZE, "face")
            latents = pipe.sample(
                source if source is not None else pipe.blend(driving, degree), driving, seed=[seeds[i] for i in chunk],
                steps=steps, guidance=generation.guidance, scheduler=generation.scheduler, callback=progress,
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
                    from ..model.precision import non_finite_advice  # torch, which classic redaction never loads

                    advice = non_finite_advice(getattr(pipe, "dtype", None))
                    raise FaceAnonError(f"generation produced non-finite pixels {advice}; or enable fail_closed")
                image = None
            generated.append(image)
    return generated


@dataclass
class _ChunkProgress:
    """A chunk's steps, reported as steps of the whole call."""

    callback: Optional[ProgressCallback]
    offset: int
    total: int

    def __call__(self, step: int, _steps: int, x0: "torch.Tensor") -> None:
        if self.callback is not None:
            self.callback(self.offset + step, self.total, x0)


def generate_records(
    pipe, records: Sequence[FaceRecord], generation: Generation, fail_closed: FailClosed, *,
    source_crop: Optional[np.ndarray] = None, callback: Optional[ProgressCallback] = None,
) -> None:
    """Generate the new face of each record with the record's seed; a face that could not be generated is
    marked for redaction."""
    crops = generate_faces(
        pipe, [record.aligned.image for record in records], [record.seed for record in records], generation,
        source_crop=source_crop, fail_closed=fail_closed.enabled, callback=callback,
    )
    for record, crop in zip(records, crops):
        record.generated, record.attempts = crop, record.attempts + 1
        if crop is None:
            record.redact(GENERATION_FAILED, fail_closed.method)


# -- 4. compose and 5. cover ---------------------------------------------------------------------------------
def compose(photo: PhotoFaces, rendering: Rendering) -> None:
    """Paste the generated faces of ``photo``, then redact each face without one as its record says.

    Verification composes a photo again after every change, so the pixels are not checked again here: the
    original was checked when the photo was read (``as_array``)."""
    done = [record for record in photo.records if record.generated is not None]
    image, mask = photo.original, np.zeros(photo.original.shape[:2], np.float32)
    if done:
        compositing = rendering.compositing
        image, mask = paste_pixels(image, [r.aligned for r in done], [r.generated for r in done],
                                   feather=compositing.feather, grow=compositing.grow,
                                   color_match=compositing.color_match)
    failed = [record for record in photo.records if record.generated is None]
    image, redacted = redact_recorded_faces(image, [record.face for record in failed], failed, rendering.framing)
    photo.image, photo.mask = image, np.maximum(mask, redacted)


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


def cover(photo: PhotoFaces, fail_closed: FailClosed) -> bool:
    """Mark the generated faces of ``photo`` whose middle its mask leaves uncovered to be redacted by their box;
    True when there were any (``photo`` must then be composed again)."""
    uncovered = uncovered_faces([record.face for record in photo.records], photo.mask)
    missed = [photo.records[j] for j in uncovered if photo.records[j].generated is not None]
    if missed and not fail_closed.enabled:
        raise FaceAnonError(f"image {photo.index} face {missed[0].face_index}: the new face does not cover the "
                            "middle of the detected face; turn fail_closed on to redact such faces by their box")
    for record in missed:
        record.generated = None
        record.redact(BY_BOX, fail_closed.method)
    return bool(missed)
