"""Faces in the wild: detect, align, generate every selected face in batched UNet calls, paste back.

Nothing here returns a photo with a selected face left as it was: if generation fails, the whole call
fails and no image is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .errors import FaceAnonError
from .faces import AlignedFace, Detector, align_faces, paste_faces, select_faces
from .faces.image_io import as_array

FACE_SIZE = 512


@dataclass
class FaceSelection:
    """Which detected faces to process (see ``faces.select_faces``)."""

    min_score: float = 0.0
    min_size: float = 0.0
    max_faces: int = 0
    order: str = "largest"
    indices: Optional[str] = None


@dataclass
class Compositing:
    """How generated faces are blended back (see ``faces.paste_faces``)."""

    feather: float = 0.06
    grow: float = 0.0
    color_match: bool = False


@dataclass
class PhotoResult:
    image: np.ndarray  # same dtype and size as the input photo
    mask: np.ndarray  # HxW float32 in 0..1: where generated pixels were blended in
    faces: list[AlignedFace] = field(default_factory=list)


def find_faces(
    images: Sequence[np.ndarray],
    detector: Detector,
    selection: FaceSelection,
    framing: str = "whole_face",
    masks: Optional[Sequence[Optional[np.ndarray]]] = None,
) -> list[list[AlignedFace]]:
    """Detected, selected and aligned faces of each image."""
    found = []
    for index, image in enumerate(images):
        mask = masks[index] if masks is not None else None
        faces = select_faces(
            detector.detect(image),
            min_score=selection.min_score,
            min_size=selection.min_size,
            max_faces=selection.max_faces,
            order=selection.order,
            indices=selection.indices,
            mask=mask,
        )
        found.append(align_faces(image, faces, framing, FACE_SIZE))
    return found


def largest_face_crop(image: np.ndarray, detector: Detector, framing: str, name: str = "source") -> np.ndarray:
    """The aligned crop of the largest face in ``image``, for use as a swap source."""
    faces = select_faces(detector.detect(image), order="largest", max_faces=1)
    if not faces:
        raise FaceAnonError(f"{name}: no face found in the source image")
    return align_faces(image, faces, framing, FACE_SIZE)[0].image


def generate_faces(
    pipe,
    crops: Sequence[np.ndarray],
    *,
    degree: float,
    source_crop: Optional[np.ndarray] = None,
    guidance: float,
    steps: int,
    seed: int,
    scheduler: str,
    batch_size: int = 8,
    callback: Optional[Callable[[int, int, torch.Tensor], None]] = None,
) -> list[np.ndarray]:
    """Generated 512x512 float32 faces for ``crops``, ``batch_size`` faces per UNet call.

    Face i uses seed + i, so a face's result does not depend on how the faces are batched.
    """
    if batch_size < 1:
        raise FaceAnonError(f"batch_size must be >= 1, got {batch_size}")
    if degree == 0 and source_crop is None:
        raise FaceAnonError("source: a swap (degree 0) needs a source face")
    source = None if degree > 0 else pipe.blend(pipe.encode(source_crop, FACE_SIZE, FACE_SIZE, "source"), 0.0)
    chunks = [list(range(start, min(start + batch_size, len(crops)))) for start in range(0, len(crops), batch_size)]
    generated: list[np.ndarray] = []
    for number, chunk in enumerate(chunks):
        driving = pipe.encode([crops[i] for i in chunk], FACE_SIZE, FACE_SIZE, "face")
        chunk_source = source if source is not None else pipe.blend(driving, degree)
        chunk_callback = None
        if callback is not None:
            def chunk_callback(step, total, x0, offset=number * steps):
                callback(offset + step, len(chunks) * steps, x0)
        latents = pipe.sample(
            chunk_source, driving, seed=seed + chunk[0], steps=steps, guidance=guidance, scheduler=scheduler,
            callback=chunk_callback,
        )
        images = pipe.decode(latents).permute(0, 2, 3, 1).cpu().numpy()
        if not np.isfinite(images).all():
            raise FaceAnonError("generation produced non-finite pixels; no image is returned (try fp32)")
        generated.extend(images)
    return generated


def process_photos(
    pipe,
    images: Sequence,
    detector: Detector,
    *,
    degree: float,
    source: Optional[object] = None,
    guidance: float,
    steps: int,
    seed: int,
    scheduler: str,
    framing: str = "whole_face",
    selection: Optional[FaceSelection] = None,
    compositing: Optional[Compositing] = None,
    masks: Optional[Sequence[Optional[np.ndarray]]] = None,
    batch_size: int = 8,
    callback=None,
) -> list[PhotoResult]:
    """Anonymize (degree > 0) or swap ``source`` onto (degree 0) every selected face of every image."""
    arrays = [as_array(image) for image in images]
    selection, compositing = selection or FaceSelection(), compositing or Compositing()
    per_image = find_faces(arrays, detector, selection, framing, masks)
    all_faces = [face for faces in per_image for face in faces]
    source_crop = None
    if degree == 0:
        if source is None:
            raise FaceAnonError("source: a swap (degree 0) needs a source image")
        source_crop = largest_face_crop(as_array(source), detector, framing)
    generated = generate_faces(
        pipe,
        [face.image for face in all_faces],
        degree=degree,
        source_crop=source_crop,
        guidance=guidance,
        steps=steps,
        seed=seed,
        scheduler=scheduler,
        batch_size=batch_size,
        callback=callback,
    )
    results, start = [], 0
    for array, faces in zip(arrays, per_image):
        crops = generated[start : start + len(faces)]
        start += len(faces)
        image, mask = paste_faces(
            array, faces, crops, feather=compositing.feather, grow=compositing.grow, color_match=compositing.color_match
        )
        results.append(PhotoResult(image, mask, faces))
    return results
