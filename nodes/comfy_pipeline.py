# SPDX-License-Identifier: AGPL-3.0-or-later
"""The core pipeline under ComfyUI's memory manager, optionally with ComfyUI's VAE and CLIP_VISION."""

from __future__ import annotations

import torch

from ..core import FaceAnonPipeline
from ..core.model.loading import FaceAnonModels
from .comfy_encoders import clip_vision_embeds, vae_decode, vae_posterior
from .memory import make_placement


class ComfyFaceAnonPipeline(FaceAnonPipeline):
    """A FaceAnonPipeline whose encoders may be ComfyUI objects (FACEANON_MODEL)."""

    def __init__(self, models: FaceAnonModels, device: torch.device, dtype: torch.dtype, vae=None, clip_vision=None, name=""):
        super().__init__(models, device, dtype, placement=make_placement(models, device))
        self.comfy_vae = vae
        self.comfy_clip_vision = clip_vision
        self.name = name

    def encode_posterior(self, images):
        if self.comfy_vae is None:
            return super().encode_posterior(images)
        return vae_posterior(self.comfy_vae, images)

    def encode_clip(self, images):
        if self.comfy_clip_vision is None:
            return super().encode_clip(images)
        return clip_vision_embeds(self.comfy_clip_vision, images).to(self.device)

    def decode_latents(self, latents):
        if self.comfy_vae is None:
            return super().decode_latents(latents)
        return vae_decode(self.comfy_vae, latents)

    def __repr__(self) -> str:
        return f"FaceAnon model {self.name!r} ({self.dtype}, {self.device})"
