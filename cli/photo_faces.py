# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generating the faces of whole photos: detect, align, generate, paste back (core.photos)."""

from __future__ import annotations

from ..core.engine.face_settings import FaceSelection, FailClosed, Generation
from ..core.engine.photos import PhotoSettings, process_photos
from .file_run import Outcome
from .report import face_record, merge_verification


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
            per_face = zip(result.faces, result.actions, result.seeds, strict=True)
            records = [face_record(j, aligned.face, action, seed=seed, degree=self.degree)
                       for j, (aligned, action, seed) in enumerate(per_face)]
            verification = merge_verification(records, getattr(result, "report", None))
            outcomes.append(Outcome(result.image, result.mask, records, result.actions, {"verification": verification},
                                    result.not_selected, [aligned.face for aligned in result.faces]))
        return outcomes
