"""One-click in-the-wild nodes: anonymize or swap every selected face of photos at full resolution."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..core.photos import generate_faces, largest_face_crop
from .conversions import check_image
from .face_info import image_list
from .face_nodes import SELECTION_INPUTS, detect
from .inputs import (
    BATCH_SIZE, COLOR_MATCH, DEGREE, DETECTOR, FEATHER, GROW, GUIDANCE, MODEL, SCHEDULER, SEED, SELECTION_MASK, STEPS,
)
from .progress import step_callback

COMMON_INPUTS = {"seed": SEED, "steps": STEPS, "guidance": GUIDANCE, "scheduler": SCHEDULER}
COMPOSITING_INPUTS = {"feather": FEATHER, "grow": GROW, "color_match": COLOR_MATCH, "batch_size": BATCH_SIZE}


class _FacesInImage:
    """Shared by the anonymize and swap nodes: detect, generate in batches, paste back."""

    CATEGORY = "FaceAnon"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "IMAGE", "FACEANON_FACES")
    RETURN_NAMES = ("image", "mask", "count", "face_crops", "faces")
    OUTPUT_TOOLTIPS = (
        "The photos with the faces replaced; pixels outside the masks are unchanged.",
        "Where pixels were replaced (soft edges), per image: feed it to inpainting or compositing nodes.",
        "Number of faces processed.",
        "The generated 512x512 faces, e.g. for restoration or upscaling before FaceAnon Paste Faces.",
        "Face info for FaceAnon Paste Faces.",
    )

    @staticmethod
    def replace(model, detector, image, source, degree, seed, steps, guidance, scheduler, framing, min_size,
                max_faces, order, indices, feather, grow, color_match, batch_size, mask):
        images, info = detect(detector, image, framing, min_size, max_faces, order, indices, mask)
        source_crop = None
        if source is not None:
            source_crop = largest_face_crop(image_list(check_image(source, "source"))[0], detector, framing)
        crops = [face.image for faces in info.faces for face in faces]
        if not crops:
            return (image[..., :3].float(), info.regions(images), 0, info.crops(), info)
        total_steps = math.ceil(len(crops) / batch_size) * steps
        generated = generate_faces(
            model, crops, degree=degree, source_crop=source_crop, guidance=guidance, steps=steps, seed=seed,
            scheduler=scheduler, batch_size=batch_size, callback=step_callback(total_steps, model.device),
        )
        out_images, masks = info.paste(images, generated, feather, grow, color_match)
        return out_images, masks, info.count, torch.from_numpy(np.stack(generated)), info


class FaceAnonAnonymizeFacesInImage(_FacesInImage):
    DESCRIPTION = (
        "Anonymizes every selected face of each photo at its original resolution: detects, aligns, replaces "
        "the identity in batched model calls and blends the faces back seamlessly. Expression, pose, gaze, "
        "lighting and everything outside the faces stay as they were."
    )
    FUNCTION = "anonymize"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL, "detector": DETECTOR,
                "image": ("IMAGE", {"tooltip": "Photos or video frames, any size; every image of the batch is processed."}),
                "degree": DEGREE, **COMMON_INPUTS, **SELECTION_INPUTS, **COMPOSITING_INPUTS,
            },
            "optional": {"mask": SELECTION_MASK},
        }

    def anonymize(self, model, detector, image, degree, seed, steps, guidance, scheduler, framing, min_size,
                  max_faces, order, indices, feather, grow, color_match, batch_size, mask=None):
        return self.replace(model, detector, image, None, degree, seed, steps, guidance, scheduler, framing,
                            min_size, max_faces, order, indices, feather, grow, color_match, batch_size, mask)


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
                **COMMON_INPUTS, **SELECTION_INPUTS, **COMPOSITING_INPUTS,
            },
            "optional": {"mask": SELECTION_MASK},
        }

    def swap(self, model, detector, source, image, seed, steps, guidance, scheduler, framing, min_size, max_faces,
             order, indices, feather, grow, color_match, batch_size, mask=None):
        return self.replace(model, detector, image, source, 0.0, seed, steps, guidance, scheduler, framing,
                            min_size, max_faces, order, indices, feather, grow, color_match, batch_size, mask)



