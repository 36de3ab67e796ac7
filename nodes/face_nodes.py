# SPDX-License-Identifier: AGPL-3.0-or-later
"""Detect faces (crops + info + mask) and paste edited crops back, for chaining with any image node."""

from __future__ import annotations

import numpy as np
import torch

from ..core.engine.face_report import report_json
from ..core.engine.photos import FaceSelection, find_faces, no_face
from ..core.engine.redacted_faces import redact_photo
from ..core.faces import REDACTION_METHODS, review_overlay
from .conversions import check_image
from .face_info import FaceInfo, image_list, mask_list
from .inputs import (
    COLOR_MATCH,
    DETECTOR,
    FEATHER,
    FRAMING,
    GROW,
    INDICES,
    MAX_FACES,
    MIN_SIZE,
    ON_NO_FACE,
    ORDER,
    SELECTION_MASK,
)

SELECTION_INPUTS = {"framing": FRAMING, "min_size": MIN_SIZE, "max_faces": MAX_FACES, "order": ORDER, "indices": INDICES}
REDACTION_VERIFIER = ("FACEANON_VERIFIER", {"tooltip": "Optional: the identity verifier from FaceAnon Load Identity "
                      "Verifier. Every redacted face is compared with the original by face recognition; one it still "
                      "matches is blacked out instead (the report says so)."})


def detect(detector, image, framing, min_size, max_faces, order, indices, mask=None) -> tuple[list, FaceInfo]:
    images = image_list(check_image(image, "image"))
    selection = FaceSelection(min_size=min_size, max_faces=max_faces, order=order, indices=indices.strip() or None)
    return images, FaceInfo(find_faces(images, detector, selection, framing, mask_list(mask, len(images))))


class FaceAnonDetectFaces:
    DESCRIPTION = (
        "Finds the faces of every image, aligns each to a 512x512 crop and outputs the crops as one IMAGE "
        "batch, the face info needed to paste them back, a MASK of the face regions and the count. Edit the "
        "crops with any nodes (upscale, restore, inpaint, FaceAnon) and put them back with FaceAnon Paste Faces."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "detect"
    RETURN_TYPES = ("IMAGE", "FACEANON_FACES", "MASK", "INT", "IMAGE")
    RETURN_NAMES = ("crops", "faces", "mask", "count", "review")
    OUTPUT_TOOLTIPS = (
        "Aligned 512x512 face crops, all images' faces in order (one black crop when none is found).",
        "Where each crop came from, for FaceAnon Paste Faces.",
        "The region each face would be pasted into, per image.",
        "Number of faces found.",
        "The images with each face's box, index, score and the model that found it (green: both models, orange: "
        "YuNet, blue: CenterFace). Check it by eye: a face without a box was missed.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"detector": DETECTOR, "image": ("IMAGE", {"tooltip": "Photos or video frames."}), **SELECTION_INPUTS},
            "optional": {"mask": SELECTION_MASK},
        }

    def detect(self, detector, image, framing, min_size, max_faces, order, indices, mask=None):
        images, info = detect(detector, image, framing, min_size, max_faces, order, indices, mask)
        return info.crops(), info, info.regions(images), info.count, review_images(images, info)


def review_images(images: list[np.ndarray], info) -> torch.Tensor:
    """IMAGE batch of the review overlays, one per image."""
    overlays = [review_overlay(image, [aligned.face for aligned in faces]) for image, faces in zip(images, info.faces)]
    return torch.from_numpy(np.stack(overlays)).float()


class FaceAnonPasteFaces:
    DESCRIPTION = (
        "Pastes edited face crops back into the images they came from, through a feathered face mask. "
        "Pixels outside the masks stay exactly as they were; overlapping faces are composited in order."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "paste"
    RETURN_TYPES = ("IMAGE", "MASK")
    RETURN_NAMES = ("image", "mask")
    OUTPUT_TOOLTIPS = ("The images with the crops blended in.", "Where pixels were replaced (soft edges).")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE", {"tooltip": "The images the faces were detected in."}),
                "crops": ("IMAGE", {"tooltip": "One crop per face, in the order of FaceAnon Detect Faces (any size; resized to 512)."}),
                "faces": ("FACEANON_FACES", {"tooltip": "The face info from FaceAnon Detect Faces."}),
                "feather": FEATHER,
                "grow": GROW,
                "color_match": COLOR_MATCH,
            }
        }

    def paste(self, image, crops, faces, feather, grow, color_match):
        images = image_list(check_image(image, "image"))
        crops = [c.cpu().float().numpy() for c in check_image(crops, "crops")] if faces.count else []
        return faces.paste(images, crops, feather, grow, color_match)



class FaceAnonRedactFaces:
    DESCRIPTION = (
        "Hides every selected face with blur, pixelation, black or a solid fill of the face's own mean colour. "
        "Needs only the detector: fast, on the CPU, no diffusion model. The redaction covers the whole face "
        "region, feathered outward only; blur and pixelation grow stronger on small faces, and a face whose "
        "crop would miss it is redacted by its box. With a verifier, faces still recognizable are blacked out."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "redact"
    RETURN_TYPES = ("IMAGE", "MASK", "INT", "STRING")
    RETURN_NAMES = ("image", "mask", "count", "report")
    OUTPUT_TOOLTIPS = (
        "The redacted images.", "Where pixels were replaced.", "Number of faces redacted.",
        "What happened to each face, as JSON: action (e.g. redacted by its box), redaction method and, with a "
        "verifier, the similarity to the original.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "detector": DETECTOR,
                "image": ("IMAGE", {"tooltip": "Photos or video frames."}),
                "method": (list(REDACTION_METHODS), {"default": "blur", "tooltip": "blur: strong Gaussian blur; pixelate: "
                           "16 blocks across the face region; both stronger on small faces; black; fill: the face's "
                           "mean colour."}),
                **SELECTION_INPUTS,
                "on_no_face": ON_NO_FACE,
            },
            "optional": {"mask": SELECTION_MASK, "verifier": REDACTION_VERIFIER},
        }

    def redact(self, detector, image, method, framing, min_size, max_faces, order, indices, on_no_face, mask=None,
               verifier=None):
        images, info = detect(detector, image, framing, min_size, max_faces, order, indices, mask)
        results = []
        for index, (array, faces) in enumerate(zip(images, info.faces)):
            if not faces:
                no_face(index, on_no_face)
            results.append(redact_photo(array, [f.face for f in faces], method, framing, verification=verifier,
                                        image_index=index))
        images = torch.stack([torch.from_numpy(np.ascontiguousarray(result.image)) for result in results]).float()
        masks = torch.stack([torch.from_numpy(result.mask) for result in results]).float()
        return images, masks, info.count, report_json(results)
