# SPDX-License-Identifier: AGPL-3.0-or-later
"""Encode a reference image, and blend a source reference into anonymizing conditioning."""

from __future__ import annotations

from .conversions import check_image
from .inputs import DEGREE, HEIGHT, MODEL, WIDTH


class FaceAnonEncodeReference:
    DESCRIPTION = (
        "Encodes aligned face images into FaceAnon references: VAE latents (posterior) plus the CLIP "
        "ViT-L/14 embedding of each image of the batch. Use it for the driving image (pose, expression, "
        "background) and, when swapping, for the source face."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "encode"
    RETURN_TYPES = ("FACEANON_REFERENCE",)
    RETURN_NAMES = ("reference",)
    OUTPUT_TOOLTIPS = ("One reference per image of the batch.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL,
                "image": ("IMAGE", {"tooltip": "Aligned face crops; resized to width x height."}),
                "width": WIDTH,
                "height": HEIGHT,
            }
        }

    def encode(self, model, image, width, height):
        return (model.encode(check_image(image, "image"), width, height, "image"),)


class FaceAnonBlend:
    DESCRIPTION = (
        "Turns a source reference into source conditioning. With degree > 0 its identity is pushed past the "
        "'no identity' point (the paper's Eq.1 on the embedding, Eq.2 on the ReferenceNet states, against "
        "the cached null states): connect the same reference as the driving one to anonymize. With degree 0 "
        "it is plain face-swap conditioning. Changing the degree re-runs only this node and the sampler."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "blend"
    RETURN_TYPES = ("FACEANON_SOURCE",)
    RETURN_NAMES = ("source",)
    OUTPUT_TOOLTIPS = ("Source conditioning for the FaceAnon samplers.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL,
                "reference": ("FACEANON_REFERENCE", {"tooltip": "The source reference (the face whose identity is used or removed)."}),
                "degree": DEGREE,
            }
        }

    def blend(self, model, reference, degree):
        return (model.blend(reference, degree),)
