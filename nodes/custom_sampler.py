# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon sampler driven by ComfyUI's SAMPLER and SIGMAS, so every ComfyUI sampler and scheduler works."""

from __future__ import annotations

import torch

from ..core.errors import FaceAnonError
from .comfy_runtime import comfy_module
from .inputs import GUIDANCE, MODEL, SEED
from .progress import step_callback
from .sampler import DRIVING, LATENT_IN, SOURCE, sampler_outputs, start_latents


def sd2_v_model_sampling():
    """ComfyUI's model sampling for SD2.x v-prediction: the discrete scaled-linear 0.00085..0.012 schedule."""
    model_sampling = comfy_module("comfy.model_sampling")

    class SD2VPrediction(model_sampling.ModelSamplingDiscrete, model_sampling.V_PREDICTION):
        pass

    return SD2VPrediction(None)


class _InnerModel:
    """What samplers read from ``model_wrap.inner_model`` (a BaseModel in ComfyUI)."""

    def __init__(self, model_sampling):
        self.model_sampling = model_sampling

    def scale_latent_inpaint(self, x, sigma, noise, latent_image, **kwargs):
        sigma = sigma.reshape([sigma.shape[0]] + [1] * (noise.ndim - 1))
        return self.model_sampling.noise_scaling(sigma, noise, latent_image)


class _ModelObjects:
    """What SDE samplers read through ``model_wrap.model_patcher.get_model_object``."""

    def __init__(self, inner):
        self.inner = inner

    def get_model_object(self, name):
        return getattr(self.inner, name)


class FaceAnonGuider:
    """The ``model_wrap`` ComfyUI's KSAMPLER calls: (x, sigma) -> guided x0 estimate."""

    def __init__(self, pipeline, conditioning, guidance: float, model_sampling):
        self.pipeline = pipeline
        self.conditioning = conditioning
        self.guidance = guidance
        self.inner_model = _InnerModel(model_sampling)
        self.model_patcher = _ModelObjects(self.inner_model)

    def __call__(self, x, sigma, model_options={}, seed=None):  # noqa: B006 - ComfyUI's signature
        sampling = self.inner_model.model_sampling
        model_input = sampling.calculate_input(sigma, x)
        timestep = sampling.timestep(sigma[:1]).float()
        v_uncond, v_cond = self.pipeline.denoiser.predict_branches(model_input, timestep, self.conditioning)
        cond = sampling.calculate_denoised(sigma, v_cond.to(x.dtype), x)
        if v_uncond is None:
            return cond
        uncond = sampling.calculate_denoised(sigma, v_uncond.to(x.dtype), x)
        denoised = uncond + (cond - uncond) * self.guidance
        for post_cfg in model_options.get("sampler_post_cfg_function", []):
            denoised = post_cfg(
                {"denoised": denoised, "cond_denoised": cond, "uncond_denoised": uncond, "cond_scale": self.guidance,
                 "sigma": sigma, "input": x, "model": self.inner_model, "model_options": model_options,
                 "cond": None, "uncond": None}
            )
        return denoised


class FaceAnonSamplerCustom:
    DESCRIPTION = (
        "Like FaceAnon Sampler, but with any ComfyUI sampler (KSamplerSelect) and sigmas (BasicScheduler, "
        "KarrasScheduler...). BasicScheduler's denoise sets how much of a latent input is changed; a "
        "noise_mask in the latent limits changes to the masked region."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "sample"
    RETURN_TYPES = ("LATENT", "IMAGE")
    RETURN_NAMES = ("latent", "image")
    OUTPUT_TOOLTIPS = ("Raw SD2 latents.", "The decoded faces.")

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": MODEL,
                "source": SOURCE,
                "driving": DRIVING,
                "seed": SEED,
                "guidance": GUIDANCE,
                "sampler": ("SAMPLER", {"tooltip": "A ComfyUI sampler, e.g. from KSamplerSelect."}),
                "sigmas": ("SIGMAS", {"tooltip": "Noise levels, e.g. from BasicScheduler (any SD model works there; "
                                                 "FaceAnon uses the SD2.1 schedule)."}),
            },
            "optional": {"latent": LATENT_IN},
        }

    def sample(self, model, source, driving, seed, guidance, sampler, sigmas, latent=None):
        sampler_helpers = comfy_module("comfy.sampler_helpers")
        if sampler_helpers is None:
            raise FaceAnonError("FaceAnon Sampler (custom) needs ComfyUI's samplers; use FaceAnon Sampler outside ComfyUI.")
        device = model.device
        shape = (driving.batch, 4, *driving.latent_size)
        latent_image, noise_mask = start_latents(model, driving, latent)
        latent_image = torch.zeros(shape) if latent_image is None else latent_image
        mask = None if noise_mask is None else sampler_helpers.prepare_mask(noise_mask, shape, device)
        if len(sigmas) <= 1:
            return sampler_outputs(model, latent_image, latent)
        conditioning, _, noise = model.prepare(source, driving, seed, guided=guidance != 1)
        model.placement.load(model.models.unet)
        guider = FaceAnonGuider(model, conditioning, guidance, sd2_v_model_sampling())
        progress = step_callback(len(sigmas) - 1, device)
        with torch.no_grad(), model.denoiser.references(conditioning):
            samples = sampler.sample(
                guider,
                sigmas.to(device),
                {"model_options": {}, "seed": seed},
                lambda i, x0, x, total: progress(i + 1, total, x0),
                noise.to(device),
                latent_image.to(device),
                mask,
                True,
            )
        return sampler_outputs(model, samples, latent)
