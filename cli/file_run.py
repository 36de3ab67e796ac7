# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bookkeeping every file command shares: resume by skipping finished files, read each input,
write each result, and keep the progress display, the summary and the report up to date.

A file that fails is reported and the run goes on with the next one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from .image_files import Photo, UnreadableImage, read_photo, write_photo
from .inputs import Job
from .progress import Progress
from .report import Report, changed_box
from .review import write_review
from .summary import Summary


@dataclass
class Outcome:
    """What processing one photo gave: the result's pixels, where they may differ from the input
    (HxW mask, or None), a record and an action per face, and more fields for the report."""

    pixels: np.ndarray
    mask: np.ndarray | None
    faces: list[dict]
    actions: list[str]
    extra: dict = field(default_factory=dict)
    detections: list = field(default_factory=list)  # the core's Face of each face, for --review


def describe_error(error: BaseException) -> str:
    if isinstance(error, (UnreadableImage, ValueError, OSError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


class FileRun:
    def __init__(self, args, jobs: list[Job], summary: Summary):
        self.args = args
        self.jobs = jobs
        self.summary = summary
        self.summary.files = len(jobs)
        settings = {k: v for k, v in vars(args).items() if k not in ("inputs", "command")}
        self.report = Report(args.report, args.command, settings)
        self.progress: Progress | None = None

    def pending(self) -> list[Job]:
        """The jobs to run; finished ones (their result exists) are skipped unless --overwrite."""
        if self.args.overwrite:
            return list(self.jobs)
        todo = []
        for job in self.jobs:
            if job.done:
                self.summary.skipped += 1
                self.report.add(job.input, job.output, "skipped")
            else:
                todo.append(job)
        if self.summary.skipped:
            print(f"Skipping {self.summary.skipped} files whose results exist in {self.args.output} "
                  f"(--overwrite redoes them).", file=sys.stderr)
        return todo

    def start(self, count: int) -> Progress:
        self.progress = Progress(count, enabled=not self.args.quiet)
        return self.progress

    def read(self, job: Job) -> Photo | None:
        try:
            return read_photo(job.input)
        except UnreadableImage as error:
            self.failed(job, error)
            return None

    def failed(self, job: Job, error: BaseException) -> None:
        self.summary.errors += 1
        message = describe_error(error)
        self.report.add(job.input, None, "error", error=message)
        self.progress.message(f"error: {job.input}: {message}")
        self.progress.file_done(str(job.input), "failed")

    def succeeded(self, job: Job, photo: Photo, outcome: Outcome) -> None:
        try:
            write_photo(job.output, outcome.pixels, photo.mode)
        except (OSError, ValueError) as error:
            self.failed(job, OSError(f"cannot write {job.output} ({error})"))
            return
        if getattr(self.args, "review", None):
            try:
                write_review(self.args.review, job.output.relative_to(self.args.output), outcome.pixels,
                             outcome.detections)
            except OSError as error:
                self.progress.message(f"warning: {job.input}: no review image ({error})")
        self.summary.add_faces(outcome.actions)
        box = changed_box(outcome.mask) if outcome.mask is not None else None
        self.report.add(job.input, job.output, "done", faces=outcome.faces, changed_box=box, **outcome.extra)
        self.progress.file_done(str(job.input), f"{len(outcome.faces)} faces")

    def finish(self) -> int:
        if self.progress is not None:
            self.progress.close()
        self.report.write(self.summary.as_dict())
        print(self.summary.text())
        return self.summary.exit_status
