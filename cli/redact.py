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


def run(args) -> int:
    jobs = plan_jobs(args.inputs, args.output, args.recursive)
    with FileRun(args, jobs, Summary("redacted", done_action="redacted")) as file_run:
        todo = file_run.pending()
        if todo:
            root = models_root(args.models)
            require_models(root, ("detector",), args.download, announce=lambda text: print(text, file=sys.stderr),
                           detection=args.detection)
            from ..core.faces import faces_left_out, load_detector, redact_faces, select_faces

            detector = load_detector(args.detection, root)
            file_run.start(len(todo))
            for job in todo:
                photo = file_run.read(job)
                if photo is None:
                    continue
                try:
                    detected = detector.detect(photo.pixels)
                    faces = select_faces(detected, min_size=args.min_face, max_faces=args.max_faces, order=args.order)
                    pixels, mask = redact_faces(photo.pixels, faces, args.method, args.framing)
                except Exception as error:  # noqa: BLE001 - report the file and go on
                    file_run.failed(job, error)
                    continue
                records = [face_record(j, face, "redacted", method=args.method) for j, face in enumerate(faces)]
                file_run.succeeded(job, photo, Outcome(pixels, mask, records, ["redacted"] * len(faces),
                                                       not_selected=faces_left_out(detected, faces),
                                                       detections=faces))
        return file_run.finish()
