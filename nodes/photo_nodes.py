# SPDX-License-Identifier: AGPL-3.0-or-later
"""One-click in-the-wild nodes: anonymize or swap every selected face of photos at full resolution."""

from __future__ import annotations

import numpy as np
import torch

from ..core.engine.face_report import report_json
from ..core.engine.face_settings import Compositing, FaceSelection, FailClosed, Generation
from ..core.engine.photos import FACE_SIZE, PhotoSettings, process_photos
from .conversions import check_image
from .face_info import FaceInfo, image_list, mask_list
from .face_nodes import SELECTION_INPUTS
from .inputs import (
    BATCH_SIZE,
    COLOR_MATCH,
    DEGREE,
    DETECTOR,
    FAIL_CLOSED,
    FALLBACK,
    FEATHER,
    GROW,
    GUIDANCE,
    MODEL,
    ON_NO_FACE,
    SCHEDULER,
    SEED,
    SELECTION_MASK,
    STEPS,
)
from .progress import step_callback
from .verifier_loader import VERIFIER

COMMON_INPUTS = {"seed": SEED, "steps": STEPS, "guidance": GUIDANCE, "scheduler": SCHEDULER}
FINISH_INPUTS = {
    "feather": FEATHER, "grow": GROW, "color_match": COLOR_MATCH, "batch_size": BATCH_SIZE,
    "fail_closed": FAIL_CLOSED, "fallback": FALLBACK, "on_no_face": ON_NO_FACE,
}


def photo_settings(degree: float, inputs: dict, verification=None) -> PhotoSettings:
    """The settings of a run from the node's inputs, which bear the options' names (core/options.py)."""
    return PhotoSettings(
        generation=Generation(degree, inputs["steps"], inputs["guidance"], inputs["scheduler"], inputs["seed"],
                              inputs["batch_size"]),
        selection=FaceSelection(min_size=inputs["min_size"], max_faces=inputs["max_faces"], order=inputs["order"],
                                indices=inputs["indices"].strip() or None),
        framing=inputs["framing"],
        compositing=Compositing(inputs["feather"], inputs["grow"], inputs["color_match"]),
        fail_closed=FailClosed(enabled=inputs["fail_closed"], method=inputs["fallback"]),
        on_no_face=inputs["on_no_face"],
        verification=verification,
    )


class _FacesInImage:
    """Shared by the anonymize and swap nodes: detect, generate in batches, paste back, fail closed."""

    CATEGORY = "FaceAnon"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "IMAGE", "FACEANON_FACES", "STRING")
    RETURN_NAMES = ("image", "mask", "count", "face_crops", "faces", "report")
    OUTPUT_TOOLTIPS = (
        "The photos with the faces replaced; pixels outside the masks are unchanged.",
        "Where pixels were replaced (soft edges), per image: feed it to inpainting or compositing nodes.",
        "Number of faces processed.",
        "The generated 512x512 faces (redacted faces show their original crop), e.g. for restoration or "
        "upscaling before FaceAnon Paste Faces.",
        "Face info for FaceAnon Paste Faces.",
        "What happened to each face, as JSON: action, attempts, seed, degree and, with a verifier, the "
        "similarity to the original. Connect it to FaceAnon Save Image (Private) to keep it as an audit record.",
    )

    @staticmethod
    def replace(model, detector, image, source, settings: PhotoSettings, mask=None):
        images = image_list(check_image(image, "image"))
        results = process_photos(
            model, images, detector, settings,
            source=None if source is None else image_list(check_image(source, "source"))[0],
            masks=mask_list(mask, len(images)), callback=step_callback(settings.generation.steps, model.device),
        )
        info = FaceInfo([result.faces for result in results])
        crops = [crop if crop is not None else face.image.astype(np.float32)
                 for result in results for face, crop in zip(result.faces, result.crops)]
        face_crops = torch.from_numpy(np.stack(crops)) if crops else torch.zeros(1, FACE_SIZE, FACE_SIZE, 3)
        out_images = torch.stack([torch.from_numpy(np.ascontiguousarray(r.image)) for r in results]).float()
        masks = torch.stack([torch.from_numpy(r.mask) for r in results]).float()
        return out_images, masks, info.count, face_crops, info, report_json(results)


class FaceAnonAnonymizeFacesInImage(_FacesInImage):
    DESCRIPTION = (
        "Anonymizes every selected face of each photo at its original resolution: detects, aligns, replaces "
        "the identity in batched model calls and blends the faces back seamlessly. Expression, pose, gaze, "
        "lighting and everything outside the faces stay as they were. With a verifier, faces that still look "
        "like the original person are generated again and, failing that, redacted."
    )
    FUNCTION = "anonymize"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL, "detector": DETECTOR,
                "image": ("IMAGE", {"tooltip": "Photos or video frames, any size; every image of the batch is processed."}),
                "degree": DEGREE, **COMMON_INPUTS, **SELECTION_INPUTS, **FINISH_INPUTS,
            },
            "optional": {"mask": SELECTION_MASK, "verifier": VERIFIER},
        }

    def anonymize(self, model, detector, image, degree, mask=None, verifier=None, **inputs):
        return self.replace(model, detector, image, None, photo_settings(degree, inputs, verifier), mask)


class FaceAnonSwapFaceInImage(_FacesInImage):
    DESCRIPTION = (
        "Puts the largest face of the source image onto every selected face of each photo, keeping their "
        "expression, pose, lighting and scene. Only swap faces with the consent of the people shown."
    )
    FUNCTION = "swap"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL, "detector": DETECTOR,
                "source": ("IMAGE", {"tooltip": "An image of the face to put in (its largest face is used)."}),
                "image": ("IMAGE", {"tooltip": "Photos whose selected faces are replaced."}),
                **COMMON_INPUTS, **SELECTION_INPUTS, **FINISH_INPUTS,
            },
            "optional": {"mask": SELECTION_MASK},
        }

    def swap(self, model, detector, source, image, mask=None, **inputs):
        return self.replace(model, detector, image, source, photo_settings(0.0, inputs), mask)



