# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon sampler node: the paper's sampling loop, with img2img and inpainting masks."""

from __future__ import annotations

import torch

from ..core.errors import FaceAnonError
from .conversions import images_to_comfy, latent_from_comfy, latent_to_comfy
from .inputs import GUIDANCE, MODEL, SCHEDULER, SEED, STEPS
from .progress import step_callback

SOURCE = ("FACEANON_SOURCE", {"tooltip": "Source conditioning from FaceAnon Blend."})
DRIVING = ("FACEANON_REFERENCE", {"tooltip": "Driving reference: pose, expression, gaze, lighting and background."})
LATENT_IN = (
    "LATENT",
    {
        "tooltip": "Optional latents to start from (img2img) instead of pure noise. A noise_mask in it (from "
        "SetLatentNoiseMask or VAEEncodeForInpaint) limits generation to the masked region.",
    },
)


def start_latents(model, driving, latent) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """A LATENT input as scaled latents for every driving image (a single latent is shared) and its noise_mask."""
    if latent is None:
        return None, None
    init, mask = latent_from_comfy(latent, model.scaling_factor)
    shape = (driving.batch, 4, *driving.latent_size)
    if init.shape[0] == 1:
        init = init.expand(shape)
    if tuple(init.shape) != shape:
        raise FaceAnonError(f"latent: expected shape {shape} to match the driving images, got {tuple(init.shape)}")
    return init, mask


def sampler_outputs(model, latents: torch.Tensor, template: dict | None):
    """(LATENT with raw latents, keeping the input LATENT's other keys; decoded IMAGE)."""
    return latent_to_comfy(latents, model.scaling_factor, template), images_to_comfy(model.decode(latents))


def run_sampler(model, source, driving, seed, steps, guidance, scheduler, denoise=1.0, latent=None):
    """Shared by the sampler and the one-click nodes: returns (LATENT, IMAGE)."""
    init, mask = start_latents(model, driving, latent)
    if init is None and denoise < 1:
        raise FaceAnonError("denoise: values below 1 need a latent input to start from; connect one or set 1.0")
    latents = model.sample(
        source,
        driving,
        seed=seed,
        steps=steps,
        guidance=guidance,
        scheduler=scheduler,
        init_latents=init,
        denoise=denoise,
        mask=mask,
        callback=step_callback(steps, model.device),
    )
    return sampler_outputs(model, latents, latent)


class FaceAnonSampler:
    DESCRIPTION = (
        "Generates the face: the driving reference's pose, expression and scene with the source "
        "conditioning's identity (or none, when anonymizing). Outputs raw SD latents for VAEDecode, tiled "
        "decoding or latent upscalers, and the decoded image. With a latent input and denoise < 1 it "
        "refines existing latents; a noise_mask restricts changes to the mask (localized anonymization)."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "sample"
    RETURN_TYPES = ("LATENT", "IMAGE")
    RETURN_NAMES = ("latent", "image")
    OUTPUT_TOOLTIPS = ("Raw SD2 latents (as from VAEEncode).", "The decoded faces.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL,
                "source": SOURCE,
                "driving": DRIVING,
                "seed": SEED,
                "steps": STEPS,
                "guidance": GUIDANCE,
                "scheduler": SCHEDULER,
                "denoise": (
                    "FLOAT",
                    {
                        "default": 1.0,
                        "min": 0.0,
                        "max": 1.0,
                        "step": 0.01,
                        "tooltip": "How much to change the input latents: 1 starts from noise, 0 returns them "
                        "unchanged. Below 1 needs the latent input.",
                    },
                ),
            },
            "optional": {"latent": LATENT_IN},
        }

    def sample(self, model, source, driving, seed, steps, guidance, scheduler, denoise, latent=None):
        return run_sampler(model, source, driving, seed, steps, guidance, scheduler, denoise, latent)
