# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon anonymize`` and ``faceanon swap``: new faces for the faces in image files.

Photos are read until --max-photos-in-memory of them, or --max-megapixels-in-memory of pixels, are in
hand; all their faces are then generated together, --batch faces per UNet call. Face j of every file
uses seed + j, so neither the batching nor the order of files changes which face a seed gives (see the
README for the exact promise on pixel values). When a group fails, its files are retried one by one to
find the one at fault.
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
    from ..core.model.pipeline import FaceAnonPipeline
    from ..core.model.precision import dtype_name

    print(f"Loading the model from {diffusion_dir(root)} on {device} ({dtype_name(dtype)})", file=sys.stderr)
    return FaceAnonPipeline.from_pretrained(str(diffusion_dir(root)), device=device, dtype=dtype)


def _read_source(args, detector):
    """The swap source's pixels; a source without a face is a bad argument."""
    try:
        source = read_photo(args.source).pixels
    except UnreadableImage as error:
        raise UsageError(f"--source: {error}") from None
    if detector is not None:
        from ..core.engine.photos import largest_face_crop
        from ..core.errors import FaceAnonError

        try:
            largest_face_crop(source, detector, args.framing)
        except FaceAnonError:
            raise UsageError(f"--source {args.source}: no face found in it") from None
    return source


def run(args) -> int:
    swap = args.command == "swap"
    degree = 0.0 if swap else args.degree
    protected = [args.source] if swap else []
    jobs = plan_jobs(args.inputs, args.output, args.recursive, protected=protected)
    with FileRun(args, jobs, Summary("swapped" if swap else "anonymized"), protected=protected) as file_run:
        todo = file_run.pending()
        if todo:
            _generate(args, file_run, todo, swap, degree)
        return file_run.finish()


def _generate(args, file_run: FileRun, todo, swap: bool, degree: float) -> None:
    root = models_root(args.models)
    verify = getattr(args, "verify", False)
    if verify and args.aligned:
        raise UsageError("--verify checks faces found in photos; it cannot be used with --aligned")
    groups = ("model",) if args.aligned else ("model", "detector") + (("recognizer",) if verify else ())
    require_models(root, groups, args.download, announce=lambda text: print(text, file=sys.stderr),
                   detection=None if args.aligned else args.detection)
    detector = None
    if not args.aligned:
        from ..core.faces import load_detector

        detector = load_detector(args.detection, root)
    source = _read_source(args, detector) if swap else None
    pipe = _load_pipeline(args, root)
    if args.aligned:
        from .aligned_faces import AlignedFaces as Processor
    else:
        from .photo_faces import PhotoFaces as Processor
    verification = build_verification(args, root) if verify else None
    processor = Processor(pipe, detector, args, degree, source, file_run.start(len(todo)), verification)
    for loaded in photos_in_memory(file_run, todo, args.max_photos_in_memory, args.max_megapixels_in_memory):
        _run_group(file_run, processor, loaded)


def photos_in_memory(file_run: FileRun, todo, max_photos: int, max_megapixels: float):
    """Lists of (job, photo), read one photo at a time, each list ending once it holds ``max_photos``
    photos or ``max_megapixels`` million pixels (at least one photo, however large)."""
    loaded, pixels = [], 0
    for job in todo:
        photo = file_run.read(job)
        if photo is None:
            continue
        loaded.append((job, photo))
        pixels += photo.pixels.shape[0] * photo.pixels.shape[1]
        if len(loaded) >= max_photos or pixels >= max_megapixels * 1e6:
            yield loaded
            loaded, pixels = [], 0
    if loaded:
        yield loaded


def _run_group(file_run: FileRun, processor, loaded) -> None:
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
