# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tiny random model files that ComfyUI's own loaders accept, written with plain torch.

* an SRVGGNetCompact x4 upscaler (spandrel arch "Compact") for UpscaleModelLoader, as a pickled state dict (.pth),
  the format of the usual upscaler downloads;
* a TAESD encoder + decoder in one file, which VAELoader loads as a VAE under any name;
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


def _compact_upscaler(scale: int = 4, num_feat: int = 8, num_conv: int = 2, seed: int = 0) -> dict:
    """SRVGGNetCompact with PReLU: body = conv, prelu, (conv, prelu) x num_conv, conv to 3*scale^2."""
    layers: list[nn.Module] = [nn.Conv2d(3, num_feat, 3, padding=1), nn.PReLU(num_feat)]
    for _ in range(num_conv):
        layers += [nn.Conv2d(num_feat, num_feat, 3, padding=1), nn.PReLU(num_feat)]
    layers.append(nn.Conv2d(num_feat, 3 * scale * scale, 3, padding=1))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        body = nn.Sequential(*layers)
    return {f"body.{k}": v.detach().contiguous() for k, v in body.state_dict().items()}


def write_compact_upscaler_pth(path: str, seed: int = 0) -> None:
    """Saved with torch.save, as the usual .pth downloads (ComfyUI loads it with weights_only=True)."""
    torch.save(_compact_upscaler(seed=seed), path)


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


def write_taesd_vae(path: str, seed: int = 0) -> None:
    """A TAESD in one file (ComfyUI's VAE class detects it by its taesd_decoder keys), scaled like SD1's VAE."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        encoder, decoder = _taesd_encoder(), _taesd_decoder()
    state = {f"taesd_encoder.{k}": v for k, v in encoder.state_dict().items()}
    state.update({f"taesd_decoder.{k}": v for k, v in decoder.state_dict().items()})
    state.update(vae_scale=torch.tensor(0.18215), vae_shift=torch.tensor(0.0))
    _save(state, path)


def write_vit_h_keys_only(path: str) -> None:
    """Detected as CLIP ViT-H/14 (width 1280); every other weight is missing, so it is cheap to load."""
    _save({VIT_H_DETECTION_KEY: torch.ones(1280)}, path)
