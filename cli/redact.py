# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon redact``: classic redaction (blur, pixelate, black, fill) with the face detector only.

Imports neither torch nor the diffusion model.
"""

from __future__ import annotations

import sys

from .file_run import FileRun, Outcome
from .inputs import plan_jobs
from .model_paths import models_root, require_models
from .report import face_record
from .summary import Summary
from .verification import build_verification

# What a face's record takes from the core's audit record when it was verified.
VERIFICATION_KEYS = ("no_face_in_output", "similarity_final", "similarity_initial", "threshold", "verified")


def run(args) -> int:
    jobs = plan_jobs(args.inputs, args.output, args.recursive)
    with FileRun(args, jobs, Summary("redacted", done_action="redacted")) as file_run:
        todo = file_run.pending()
        if todo:
            _redact(args, file_run, todo)
        return file_run.finish()


def _redact(args, file_run: FileRun, todo) -> None:
    root = models_root(args.models)
    groups = ("detector", "recognizer") if args.verify else ("detector",)
    require_models(root, groups, args.download, announce=lambda text: print(text, file=sys.stderr),
                   detection=args.detection)
    from ..core.engine.redacted_faces import redact_photo
    from ..core.faces import faces_left_out, load_detector, select_faces

    detector = load_detector(args.detection, root)
    verification = build_verification(args, root) if args.verify else None
    file_run.start(len(todo))
    for job in todo:
        photo = file_run.read(job)
        if photo is None:
            continue
        try:
            detected = detector.detect(photo.pixels)
            faces = select_faces(detected, min_size=args.min_face, max_faces=args.max_faces, order=args.order)
            result = redact_photo(photo.pixels, faces, args.method, args.framing, verification=verification)
        except Exception as error:  # noqa: BLE001 - report the file and go on
            file_run.failed(job, error)
            continue
        records = [face_record(j, face, record.action, method=record.redaction_method, **_verification_fields(record))
                   for j, (face, record) in enumerate(zip(faces, result.records, strict=True))]
        actions = [record.action for record in result.records]
        file_run.succeeded(job, photo, Outcome(result.image, result.mask, records, actions,
                                               not_selected=faces_left_out(detected, faces), detections=faces))


def _verification_fields(record) -> dict:
    if not record.verified:
        return {}
    entry = record.as_dict()
    return {key: entry[key] for key in VERIFICATION_KEYS}
