# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon anonymize`` and ``faceanon swap``: new faces for the faces in image files.

Files are taken ``--batch`` at a time and all their faces generated together, ``--batch`` faces per
UNet call; face j of every file uses seed + j, so neither the batching nor the order of files
changes a result. When a batch fails, its files are retried one by one to find the one at fault.
"""

from __future__ import annotations

import sys

from .errors import UsageError
from .file_run import FileRun
from .image_files import UnreadableImage, read_photo
from .inputs import plan_jobs
from .model_paths import diffusion_dir, models_root, require_models
from .summary import Summary
from .verification import build_verification


def _load_pipeline(args, root):
    from .devices import choose_device_and_dtype

    device, dtype = choose_device_and_dtype(args.device, args.dtype)
    from ..core.pipeline import FaceAnonPipeline

    print(f"Loading the model from {diffusion_dir(root)} on {device} ({str(dtype).replace('torch.', '')})",
          file=sys.stderr)
    return FaceAnonPipeline.from_pretrained(str(diffusion_dir(root)), device=device, dtype=dtype)


def _read_source(args, detector):
    """The swap source's pixels; a source without a face is a bad argument."""
    try:
        source = read_photo(args.source).pixels
    except UnreadableImage as error:
        raise UsageError(f"--source: {error}") from None
    if detector is not None:
        from ..core.errors import FaceAnonError
        from ..core.photos import largest_face_crop

        try:
            largest_face_crop(source, detector, args.framing)
        except FaceAnonError:
            raise UsageError(f"--source {args.source}: no face found in it") from None
    return source


def run(args) -> int:
    swap = args.command == "swap"
    degree = 0.0 if swap else args.degree
    jobs = plan_jobs(args.inputs, args.output, args.recursive, protected=[args.source] if swap else [])
    file_run = FileRun(args, jobs, Summary("swapped" if swap else "anonymized"))
    todo = file_run.pending()
    if todo:
        root = models_root(args.models)
        verify = getattr(args, "verify", False)
        if verify and args.aligned:
            raise UsageError("--verify checks faces found in photos; it cannot be used with --aligned")
        groups = ("model",) if args.aligned else ("model", "detector") + (("recognizer",) if verify else ())
        require_models(root, groups, args.download, announce=lambda text: print(text, file=sys.stderr))
        detector = None
        if not args.aligned:
            from ..core.faces import FaceDetector

            detector = FaceDetector(models_dir=root, mode=args.detection)
        source = _read_source(args, detector) if swap else None
        pipe = _load_pipeline(args, root)
        if args.aligned:
            from .aligned_faces import AlignedFaces as Processor
        else:
            from .photo_faces import PhotoFaces as Processor
        processor = Processor(pipe, detector, args, degree, source, file_run.start(len(todo)))
        if verify:
            processor.verification = build_verification(args, root)
        for start in range(0, len(todo), args.batch):
            _run_group(file_run, processor, todo[start:start + args.batch])
    return file_run.finish()


def _run_group(file_run: FileRun, processor, group) -> None:
    loaded = [(job, photo) for job in group if (photo := file_run.read(job)) is not None]
    if not loaded:
        return
    try:
        outcomes = processor([photo for _, photo in loaded])
    except Exception as error:  # noqa: BLE001 - isolate the file at fault, report it, go on
        if len(loaded) == 1:
            file_run.failed(loaded[0][0], error)
            return
        for job, photo in loaded:
            _run_group_of_one(file_run, processor, job, photo)
        return
    file_run.progress.end_steps()
    for (job, photo), outcome in zip(loaded, outcomes, strict=True):
        file_run.succeeded(job, photo, outcome)


def _run_group_of_one(file_run, processor, job, photo) -> None:
    try:
        (outcome,) = processor([photo])
    except Exception as error:  # noqa: BLE001
        file_run.failed(job, error)
        return
    file_run.succeeded(job, photo, outcome)
