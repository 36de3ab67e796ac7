# SPDX-License-Identifier: AGPL-3.0-or-later
"""A reference image as the method sees it: its VAE posterior and its CLIP embedding."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import AutoencoderKL
from transformers import CLIPVisionModel

from ..errors import FaceAnonError
from .clip_preprocessing import clip_pixel_values
from .randomness import draw_normal


@dataclass
class Reference:
    """Per image of a batch: the VAE posterior (unscaled mean and std) and CLIP's pooled embedding.

    Encoding is deterministic; the posterior is sampled later, from the seed, in the official order.
    """

    latent_mean: torch.Tensor  # [B, 4, H/8, W/8] float32
    latent_std: torch.Tensor  # [B, 4, H/8, W/8] float32
    embeds: torch.Tensor  # [B, 1, C] float32, unprojected pooled CLIP output

    @property
    def batch(self) -> int:
        return self.latent_mean.shape[0]

    @property
    def latent_size(self) -> tuple[int, int]:
        return tuple(self.latent_mean.shape[-2:])

    def expand(self, batch: int, name: str = "reference") -> "Reference":
        """The same reference for ``batch`` images; only a batch of 1 or ``batch`` can be expanded."""
        if self.batch == batch:
            return self
        if self.batch != 1:
            expected = "1 image" if batch == 1 else f"1 or {batch} images"
            raise FaceAnonError(
                f"{name}: has {self.batch} images; expected {expected} to match the {batch} driving image(s)"
            )
        return Reference(*(t.expand(batch, *t.shape[1:]) for t in (self.latent_mean, self.latent_std, self.embeds)))

    def sample_latents(self, generators: list[torch.Generator], scaling_factor: float) -> torch.Tensor:
        """A posterior sample per image, scaled for the UNet: (mean + std * eps) * scaling_factor."""
        eps = draw_normal(generators, tuple(self.latent_mean.shape[1:]))
        return (self.latent_mean + self.latent_std * eps.to(self.latent_mean.device)) * scaling_factor


@torch.no_grad()
def encode_clip(image_encoder: CLIPVisionModel, images: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] in 0..1 -> [B, 1, C] pooled (post-layernorm CLS) output, no projection."""
    pixels = clip_pixel_values(images).to(image_encoder.device, image_encoder.dtype)
    return image_encoder(pixel_values=pixels).pooler_output.unsqueeze(1).float()


@torch.no_grad()
def encode_posterior(vae: AutoencoderKL, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, 3, H, W] in 0..1 -> the posterior's unscaled mean and std."""
    posterior = vae.encode((images * 2 - 1).to(vae.device, vae.dtype)).latent_dist
    return posterior.mean.float(), posterior.std.float()
