# SPDX-License-Identifier: AGPL-3.0-or-later
"""ComfyUI data types <-> core tensors. IMAGE is [B,H,W,C] in 0..1; LATENT holds raw (unscaled) latents."""

from __future__ import annotations

import torch

from ..core.errors import FaceAnonError
from ..core.faces.image_io import check_pixel_values


def check_image(image, name: str) -> torch.Tensor:
    if not isinstance(image, torch.Tensor) or image.ndim != 4 or image.shape[-1] not in (3, 4) or not image.numel():
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise FaceAnonError(f"{name}: expected an IMAGE tensor [B,H,W,3] in 0..1, got {shape}")
    image = check_pixel_values(image[..., :3], name)
    return image.float() / 255 if image.dtype == torch.uint8 else image


def images_to_comfy(images: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] -> IMAGE [B, H, W, 3] float32 on the CPU."""
    return images.permute(0, 2, 3, 1).float().cpu().contiguous()


def latent_to_comfy(latents: torch.Tensor, scaling_factor: float, template: dict | None = None) -> dict:
    """Scaled latents -> a LATENT dict with raw latents; other keys of ``template`` (noise_mask...) are kept."""
    latent = dict(template or {})
    latent["samples"] = (latents.float() / scaling_factor).cpu()
    return latent


def latent_from_comfy(latent: dict, scaling_factor: float, name: str = "latent") -> tuple[torch.Tensor, torch.Tensor | None]:
    """A LATENT dict -> (scaled latents, noise mask or None)."""
    if not isinstance(latent, dict) or "samples" not in latent:
        raise FaceAnonError(f"{name}: expected a LATENT (a dict with 'samples')")
    samples = latent["samples"]
    if samples.ndim != 4 or samples.shape[1] != 4:
        raise FaceAnonError(
            f"{name}: expected SD1.5/SD2 latents [B,4,h,w], got {tuple(samples.shape)}; encode with an SD2 VAE"
        )
    return samples.float() * scaling_factor, latent.get("noise_mask")
