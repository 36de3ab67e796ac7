# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generating the faces of whole photos: detect, align, generate, paste back (core.photos)."""

from __future__ import annotations

from ..core.engine.face_settings import FaceSelection, FailClosed, Generation
from ..core.engine.photos import PhotoSettings, process_photos
from .file_run import Outcome
from .report import photo_face_record


class PhotoFaces:
    def __init__(self, pipe, detector, args, degree: float, source, progress, verification=None):
        self.pipe, self.detector, self.args, self.degree, self.source = pipe, detector, args, degree, source
        self.progress = progress
        self.settings = PhotoSettings(
            generation=Generation(degree, args.steps, args.guidance, args.scheduler, args.seed, args.batch),
            selection=FaceSelection(min_size=args.min_face, max_faces=args.max_faces, order=args.order),
            framing=args.framing,
            fail_closed=FailClosed(enabled=args.fail_closed, method=args.fallback),
            verification=verification,
        )

    def __call__(self, photos) -> list[Outcome]:
        results = process_photos(self.pipe, [photo.pixels for photo in photos], self.detector, self.settings,
                                 source=self.source, callback=self.progress.step)
        outcomes = []
        for result in results:
            records = [photo_face_record(j, record, self.degree) for j, record in enumerate(result.records)]
            outcomes.append(Outcome(result.image, result.mask, records, result.actions, {}, result.not_selected,
                                    [record.face for record in result.records]))
        return outcomes
