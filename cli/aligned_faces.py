# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generating faces for inputs that already are aligned face crops (``--aligned``): no detection,
each whole image is one face, generated at 512x512 and resized back to the input's size."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..core.engine.face_settings import Generation
from ..core.engine.photos import FACE_SIZE, generate_faces
from ..core.faces import redact_crop
from .file_run import Outcome
from .image_files import as_photo_pixels


def _resized(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    if pixels.shape[:2] == (height, width):
        return pixels
    return np.asarray(Image.fromarray(pixels).resize((width, height), Image.LANCZOS))


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


class AlignedFaces:
    def __init__(self, pipe, detector, args, degree: float, source, progress, verification=None):
        # verification is refused with --aligned before this is made (see generate.py)
        self.pipe, self.args, self.degree, self.progress = pipe, args, degree, progress
        self.source = None if source is None else as_photo_pixels(source, "RGB")
        self.generation = Generation(degree, args.steps, args.guidance, args.scheduler, args.seed, args.batch)

    def __call__(self, photos) -> list[Outcome]:
        args = self.args
        crops = [np.ascontiguousarray(as_photo_pixels(photo.pixels, "RGB")) for photo in photos]
        generated = generate_faces(
            self.pipe, crops, [args.seed] * len(crops), self.generation, source_crop=self.source,
            fail_closed=args.fail_closed, callback=self.progress.step,
        )
        outcomes = []
        for photo, crop, face in zip(photos, crops, generated, strict=True):
            height, width = crop.shape[:2]
            if face is None:
                action = "redacted (generation failed)"
                face = redact_crop(_resized(crop, FACE_SIZE, FACE_SIZE), args.fallback)
            else:
                action = "generated"
            pixels = _resized(_to_uint8(face), width, height)
            if photo.mode == "RGBA":
                pixels = np.dstack([pixels, photo.pixels[:, :, 3]])
            record = {"index": 0, "box": [0, 0, width, height], "action": action, "seed": args.seed,
                      "degree": self.degree}
            outcomes.append(Outcome(pixels, np.ones((height, width), np.float32), [record], [action]))
        return outcomes
