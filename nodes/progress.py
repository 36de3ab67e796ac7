# SPDX-License-Identifier: AGPL-3.0-or-later
"""Per-step progress bar, latent preview and interrupt check for ComfyUI."""

from __future__ import annotations

from typing import Callable

import torch

from .comfy_runtime import comfy_module, throw_if_interrupted


def step_callback(total_steps: int, device: torch.device) -> Callable[[int, int, torch.Tensor], None]:
    """A core-style callback(step, total, x0) that drives ComfyUI's progress bar and previews."""
    utils = comfy_module("comfy.utils")
    previews = comfy_module("latent_preview")
    latent_formats = comfy_module("comfy.latent_formats")
    bar = utils.ProgressBar(total_steps) if utils is not None else None
    previewer = None
    if previews is not None and latent_formats is not None:
        previewer = previews.get_previewer(device, latent_formats.SD15())

    def callback(step: int, total: int, x0: torch.Tensor) -> None:
        throw_if_interrupted()
        if bar is not None:
            preview = previewer.decode_latent_to_preview_image("JPEG", x0) if previewer is not None else None
            bar.update_absolute(step, total, preview)

    return callback
