# SPDX-License-Identifier: AGPL-3.0-or-later
"""Faces in the wild: every selected face of every photo through the stages of face_stages, in order.

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
from dataclasses import dataclass, field, fields, replace
from typing import Optional, Sequence

import numpy as np

from ..errors import FaceAnonError
from ..faces import AlignedFace, Detector, Face, align_faces
from ..faces.image_io import as_array
from ..model.seeds import check_seed
from ..options import FRAMING, ON_NO_FACE_OPTION
from .face_report import FaceRecord
from .face_settings import Compositing, FaceSelection, FailClosed, Generation, Rendering
from .face_stages import (  # noqa: F401 - their home before 0.3 was this module
    FACE_SIZE,
    PhotoFaces,
    check_no_face_policy,
    compose,
    cover,
    find_photo_faces,
    generate_faces,
    generate_records,
    largest_face_crop,
    no_face,
    plan_faces,
    select_detected,
)
from .verified_faces import Verification, verify_and_retry

log = logging.getLogger("faceanon")


@dataclass
class PhotoResult:
    """A processed photo: the result, where it changed, and one record per selected face (see face_report)."""

    image: np.ndarray  # same dtype and size as the input photo
    mask: np.ndarray  # HxW float32 in 0..1: where pixels were replaced
    records: list[FaceRecord] = field(default_factory=list)
    not_selected: list[Face] = field(default_factory=list)  # detected, but left out by the selection

    @classmethod
    def of(cls, photo: PhotoFaces) -> "PhotoResult":
        return cls(photo.image, photo.mask, list(photo.records), list(photo.not_selected))

    # Views of the records, for the callers written before they existed.
    @property
    def faces(self) -> list[AlignedFace]:
        return [record.aligned for record in self.records]

    @property
    def actions(self) -> list[str]:
        """Per face: "generated" or "redacted (<reason>)"."""
        return [record.legacy_action for record in self.records]

    @property
    def seeds(self) -> list[int]:
        return [record.seed for record in self.records]

    @property
    def crops(self) -> list[Optional[np.ndarray]]:
        """Per face: the generated 512x512 face, or None where it was redacted instead."""
        return [record.generated for record in self.records]

    @property
    def report(self) -> list[dict]:
        """Per face: the audit record."""
        return [record.as_dict() for record in self.records]


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


@dataclass
class PhotoSettings:
    """Everything a run over photos is set with. Each front end (node, command line, Python call) builds one
    and passes it down; `from_options` builds one from the options' loose names."""

    generation: Generation = field(default_factory=Generation)
    selection: FaceSelection = field(default_factory=FaceSelection)
    framing: str = FRAMING.default
    compositing: Compositing = field(default_factory=Compositing)
    fail_closed: FailClosed = field(default_factory=FailClosed)
    on_no_face: str = ON_NO_FACE_OPTION.default
    verification: Optional[Verification] = None

    @classmethod
    def from_options(cls, **options) -> "PhotoSettings":
        """From loose options: Generation's fields (degree, steps, guidance, scheduler, seed, batch_size) and this
        class's own (framing, selection, compositing, fail_closed, on_no_face, verification)."""
        generation_names = {f.name for f in fields(Generation)}
        own_names = {f.name for f in fields(cls)} - {"generation"}
        unknown = sorted(set(options) - generation_names - own_names)
        if unknown:
            raise FaceAnonError(f"unknown option(s) {', '.join(unknown)}; expected some of "
                                f"{', '.join(sorted(generation_names | own_names))}")
        # None is "the default" for the settings objects, as before they were objects; a None seed stays an error.
        given = {name: value for name, value in options.items()
                 if value is not None or name not in ("selection", "compositing", "fail_closed")}
        generation = Generation(**{name: given.pop(name) for name in generation_names & set(given)})
        return cls(generation=generation, **given)

    @property
    def rendering(self) -> Rendering:
        return Rendering(self.framing, self.compositing)

    def checked(self) -> "PhotoSettings":
        """These settings with their seed checked and made a plain int (see seeds.check_seed)."""
        check_no_face_policy(self.on_no_face)
        return replace(self, generation=replace(self.generation, seed=check_seed(self.generation.seed)))


def process_photos(
    pipe,
    images: Sequence,
    detector: Detector,
    settings: Optional[PhotoSettings] = None,
    *,
    source: Optional[object] = None,
    masks: Optional[Sequence[Optional[np.ndarray]]] = None,
    callback=None,
    **options,
) -> list[PhotoResult]:
    """Anonymize (degree > 0) or swap ``source`` onto (degree 0) every selected face of every image.

    ``settings``, or the same as loose ``options`` (see ``PhotoSettings.from_options``). Face j of an image uses
    seed + j (j in the selection order), whatever the batch or batch size. Its verification checks every
    anonymized face and retries or redacts the recognizable ones; it is skipped for swaps, where the output is
    meant to be someone else.
    """
    if settings is not None and options:
        raise FaceAnonError(f"pass either settings or loose options, not both (got {', '.join(sorted(options))})")
    settings = (settings or PhotoSettings.from_options(**options)).checked()
    generation, fail_closed = settings.generation, settings.fail_closed
    rendering = settings.rendering
    arrays = [as_array(image, "image" if len(images) == 1 else f"image {i}") for i, image in enumerate(images)]
    photos = [find_photo_faces(i, image, detector, settings.selection, settings.framing, generation,
                               None if masks is None else masks[i]) for i, image in enumerate(arrays)]
    for photo in photos:
        if not photo.records:
            no_face(photo.index, settings.on_no_face)
    source_crop = None
    if generation.degree == 0:
        if source is None:
            raise FaceAnonError("source: a swap (degree 0) needs a source image")
        source_crop = largest_face_crop(as_array(source, "source"), detector, settings.framing)
    todo = plan_faces(photos, fail_closed)
    generate_records(pipe, todo, generation, fail_closed, source_crop=source_crop, callback=callback)
    if settings.verification is not None and generation.degree > 0:
        verify_and_retry(settings.verification, photos, pipe, generation, fail_closed, rendering, callback)
    else:
        if settings.verification is not None:
            log.info("FaceAnon: identity verification is skipped for swaps (degree 0)")
        for photo in photos:
            compose(photo, rendering)
            if cover(photo, fail_closed):
                compose(photo, rendering)
    return [PhotoResult.of(photo) for photo in photos]
