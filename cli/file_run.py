# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bookkeeping every file command shares: hold the output folder, resume by skipping the results
this tool already wrote (see manifest), read each input, write each result, and keep the progress
display, the summary and the report up to date.

Used as a context manager, which holds the output folder's lock for the run. A file that fails is
reported and the run goes on with the next one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .folder_lock import LOCK_NAME, FolderLock
from .image_files import Photo, UnreadableImage, read_photo, write_photo
from .inputs import Job
from .manifest import MANIFEST_NAME, InputFingerprint, Manifest, settings_hash
from .output_checks import check_report_path, check_writable, nearest_existing
from .progress import Progress
from .report import Report, changed_box, not_selected_records
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
    not_selected: list = field(default_factory=list)  # faces detected but left out by --min-face / --max-faces
    detections: list = field(default_factory=list)  # the core's Face of each face, for --review


def describe_error(error: BaseException) -> str:
    if isinstance(error, (UnreadableImage, ValueError, OSError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


class FileRun:
    def __init__(self, args, jobs: list[Job], summary: Summary, protected=()):
        self.args = args
        self.jobs = jobs
        self.summary = summary
        self.summary.files = len(jobs)
        self.protected = [Path(p).expanduser() for p in protected]
        settings = {k: v for k, v in vars(args).items() if k not in ("inputs", "command")}
        self.report = Report(args.report, args.command, settings)
        self.progress: Progress | None = None
        self.output_root = Path(args.output).expanduser()
        self.lock = FolderLock(self.output_root, wait=getattr(args, "wait", False))
        self.manifest: Manifest | None = None
        self.sources: dict[Job, InputFingerprint] = {}
        self._created: Path | None = None  # the first folder of the output path this run created

    # -- holding the output folder ----------------------------------------------------------------
    def __enter__(self) -> "FileRun":
        check_writable(self.output_root, "--output")
        existing = nearest_existing(self.output_root)
        if existing != self.output_root:
            self._created = existing / self.output_root.relative_to(existing).parts[0]
        self.output_root.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
            self.manifest = Manifest(self.output_root, settings_hash(self.args))
            self._check_report()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.lock.release()
        if self._created is not None:  # a run that wrote nothing leaves no folder behind
            folder = self.output_root
            while True:
                try:
                    folder.rmdir()
                except OSError:
                    break
                if folder == self._created:
                    break
                folder = folder.parent

    def _check_report(self) -> None:
        taken = [(job.input, f"the input {job.input}") for job in self.jobs]
        taken += [(job.output, f"the result of {job.input}") for job in self.jobs]
        taken += [(path, "an earlier result in the output folder") for path in self.manifest.outputs()]
        taken += [(path, f"the --source {path}") for path in self.protected]
        taken += [(self.output_root / name, "faceanon's own record of the output folder")
                  for name in (MANIFEST_NAME, LOCK_NAME)]
        check_report_path(self.args.report, self.args.overwrite, taken)

    # -- what to do --------------------------------------------------------------------------------
    def pending(self) -> list[Job]:
        """The jobs to run. A result this tool wrote for the same input and settings is skipped; any
        other file at a result's path fails that job, unless --overwrite redoes it."""
        todo, refused = [], []
        for job in self.jobs:
            if not job.output.exists() and not job.output.is_symlink():
                todo.append(job)
                continue
            reason = None if job.output.is_file() else f"{job.output} exists and is not a file"
            if reason is None and self.args.overwrite:
                todo.append(job)
                continue
            reason = reason or self.manifest.why_not_done(job.input, job.output)
            if reason is None:
                self.summary.skipped += 1
                self.report.add(job.input, job.output, "skipped")
            else:
                refused.append((job, reason))
        for job, reason in refused:
            self.summary.errors += 1
            self.report.add(job.input, None, "error", error=f"{reason}; --overwrite replaces it")
            print(f"error: {job.input}: {reason}; left as it is (--overwrite replaces it)", file=sys.stderr)
        if self.summary.skipped:
            print(f"Skipping {self.summary.skipped} files whose results this tool already wrote in "
                  f"{self.args.output} (--overwrite redoes them).", file=sys.stderr)
        for folder in sorted({nearest_existing(job.output.parent) for job in todo}):
            check_writable(folder, "--output")
        return todo

    def start(self, count: int) -> Progress:
        self.progress = Progress(count, enabled=not self.args.quiet)
        return self.progress

    # -- each file ---------------------------------------------------------------------------------
    def read(self, job: Job) -> Photo | None:
        try:
            self.sources[job] = InputFingerprint.of(job.input)
            return read_photo(job.input)
        except UnreadableImage as error:
            self.failed(job, error)
            return None
        except OSError as error:
            self.failed(job, UnreadableImage(f"cannot read it ({error.strerror or error})"))
            return None

    def failed(self, job: Job, error: BaseException) -> None:
        self.sources.pop(job, None)
        self.summary.errors += 1
        message = describe_error(error)
        self.report.add(job.input, None, "error", error=message)
        self.progress.message(f"error: {job.input}: {message}")
        self.progress.file_done(str(job.input), "failed")

    def succeeded(self, job: Job, photo: Photo, outcome: Outcome) -> None:
        source = self.sources.pop(job)
        try:
            write_photo(job.output, outcome.pixels, photo.mode,
                        before_replace=lambda digest: self.manifest.record(source, job.output, digest))
        except (OSError, ValueError) as error:
            self.failed(job, OSError(f"cannot write {job.output} ({error})"))
            return
        if getattr(self.args, "review", None):
            try:
                write_review(self.args.review, job.output.relative_to(self.args.output), outcome.pixels,
                             outcome.detections)
            except OSError as error:
                self.progress.message(f"warning: {job.input}: no review image ({error})")
        self.summary.add_faces(outcome.actions, len(outcome.not_selected))
        box = changed_box(outcome.mask) if outcome.mask is not None else None
        self.report.add(job.input, job.output, "done", faces=outcome.faces, changed_box=box,
                        not_selected=not_selected_records(outcome.not_selected, self.args) or None,
                        **outcome.extra)
        self.progress.file_done(str(job.input), f"{len(outcome.faces)} faces")

    def finish(self) -> int:
        if self.progress is not None:
            self.progress.close()
        self.report.write(self.summary.as_dict())
        print(self.summary.text())
        return self.summary.exit_status
