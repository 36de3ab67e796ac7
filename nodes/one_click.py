# SPDX-License-Identifier: AGPL-3.0-or-later
"""One-click nodes: anonymize or swap aligned faces by chaining encode, blend and sample."""

from __future__ import annotations

from ..core.model.pipeline import DEFAULT_SIZE
from .conversions import check_image
from .inputs import DEGREE, GUIDANCE, MODEL, SEED, STEPS
from .sampler import run_sampler


def _encode(model, image, name):
    return model.encode(check_image(image, name), DEFAULT_SIZE, DEFAULT_SIZE, name)


class FaceAnonAnonymize:
    DESCRIPTION = (
        "Replaces the identity of every aligned face in the batch while keeping expression, pose, gaze, "
        "lighting and background. Faces are processed at 512x512; for whole photos use the in-the-wild nodes."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "anonymize"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("image",)
    OUTPUT_TOOLTIPS = ("The anonymized faces, 512x512.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL,
                "image": ("IMAGE", {"tooltip": "Aligned face crops (FFHQ-like framing), any size; a batch is fine."}),
                "degree": DEGREE,
                "seed": SEED,
                "steps": STEPS,
                "guidance": GUIDANCE,
            }
        }

    def anonymize(self, model, image, degree, seed, steps, guidance):
        reference = _encode(model, image, "image")
        source = model.blend(reference, degree)
        return (run_sampler(model, source, reference, seed, steps, guidance, "ddpm")[1],)


class FaceAnonSwap:
    DESCRIPTION = (
        "Puts the identity of the source face onto each target face, keeping the target's expression, pose, "
        "gaze, lighting and background. Only swap faces with the consent of the people shown."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "swap"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("image",)
    OUTPUT_TOOLTIPS = ("The targets with the source identity, 512x512.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL,
                "source": ("IMAGE", {"tooltip": "The face whose identity is used: one image, or one per target."}),
                "target": ("IMAGE", {"tooltip": "Aligned target faces that keep their pose, expression and scene."}),
                "seed": SEED,
                "steps": STEPS,
                "guidance": GUIDANCE,
            }
        }

    def swap(self, model, source, target, seed, steps, guidance):
        driving = _encode(model, target, "target")
        blended = model.blend(_encode(model, source, "source"), 0.0)
        return (run_sampler(model, blended, driving, seed, steps, guidance, "ddpm")[1],)
