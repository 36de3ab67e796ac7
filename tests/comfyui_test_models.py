# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tiny random model files that ComfyUI's own loaders accept, written with plain torch.

* an SRVGGNetCompact x4 upscaler (spandrel arch "Compact") for UpscaleModelLoader;
* a TAESD encoder + decoder pair in vae_approx, so VAELoader offers "taesd";
* a CLIP vision file with only the ViT-H/14 detection key, which CLIPVisionLoader builds as a ViT-H.

The layer layouts mirror spandrel's Compact and comfy/taesd/taesd.py; ComfyUI loads them strictly, so a
layout change there makes the e2e tests fail at the loader node rather than pass silently.
"""

from __future__ import annotations

import torch
from safetensors.torch import save_file
from torch import nn

VIT_H_DETECTION_KEY = "vision_model.encoder.layers.30.layer_norm1.weight"


def _save(state_dict: dict, path: str) -> None:
    save_file({k: v.detach().contiguous() for k, v in state_dict.items()}, path)


def write_compact_upscaler(path: str, scale: int = 4, num_feat: int = 8, num_conv: int = 2, seed: int = 0) -> None:
    """SRVGGNetCompact with PReLU: body = conv, prelu, (conv, prelu) x num_conv, conv to 3*scale^2."""
    layers: list[nn.Module] = [nn.Conv2d(3, num_feat, 3, padding=1), nn.PReLU(num_feat)]
    for _ in range(num_conv):
        layers += [nn.Conv2d(num_feat, num_feat, 3, padding=1), nn.PReLU(num_feat)]
    layers.append(nn.Conv2d(num_feat, 3 * scale * scale, 3, padding=1))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        body = nn.Sequential(*layers)
    _save({f"body.{k}": v for k, v in body.state_dict().items()}, path)


def _taesd_block() -> nn.Module:
    block = nn.Module()
    block.conv = nn.Sequential(
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1),
    )
    return block


def _taesd_blocks() -> list[nn.Module]:
    return [_taesd_block() for _ in range(3)]


def _taesd_encoder() -> nn.Sequential:
    def down() -> nn.Module:
        return nn.Conv2d(64, 64, 3, padding=1, stride=2, bias=False)

    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), _taesd_block(),
        down(), *_taesd_blocks(), down(), *_taesd_blocks(), down(), *_taesd_blocks(),
        nn.Conv2d(64, 4, 3, padding=1),
    )


def _taesd_decoder() -> nn.Sequential:
    def up() -> list[nn.Module]:
        return [nn.Upsample(scale_factor=2), nn.Conv2d(64, 64, 3, padding=1, bias=False)]

    return nn.Sequential(
        nn.Identity(), nn.Conv2d(4, 64, 3, padding=1), nn.ReLU(),  # Identity stands for TAESD's Clamp
        *_taesd_blocks(), *up(), *_taesd_blocks(), *up(), *_taesd_blocks(), *up(),
        _taesd_block(), nn.Conv2d(64, 3, 3, padding=1),
    )


def write_taesd(encoder_path: str, decoder_path: str, seed: int = 0) -> None:
    """Random, initialised TAESD weights (ComfyUI's own layers would leave them uninitialised)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        encoder, decoder = _taesd_encoder(), _taesd_decoder()
    _save(encoder.state_dict(), encoder_path)
    _save(decoder.state_dict(), decoder_path)


def write_vit_h_keys_only(path: str) -> None:
    """Detected as CLIP ViT-H/14 (width 1280); every other weight is missing, so it is cheap to load."""
    _save({VIT_H_DETECTION_KEY: torch.ones(1280)}, path)
