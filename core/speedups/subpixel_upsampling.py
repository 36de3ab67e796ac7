# SPDX-License-Identifier: AGPL-3.0-or-later
"""Nearest-neighbour 2x upsampling followed by a 3x3 convolution, done as one 2x2 convolution.

After a nearest 2x upsample, each of the four output phases (even/odd row, even/odd column) of the 3x3
convolution sees only two distinct input rows and two distinct input columns, so it is a 2x2 convolution
of the small input with summed taps. The four phases' kernels, stacked, cost 16 multiply-adds per input
pixel and channel pair instead of 36; the result equals diffusers' ``Upsample2D`` up to float rounding.

The stacked kernels (16/9 the size of the convolution's weight) are built from the weight at first use and
kept until ``release_subpixel_kernels``, which the denoiser calls after each generation: weights patched
between generations are picked up, and the memory is free between them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.upsampling import Upsample2D
from torch import nn


def _fold_taps(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """Along ``dim`` (3 taps): the two input rows seen by even outputs, then the two seen by odd ones.

    Even outputs read input rows i-1 (tap 0) and i (taps 1 + 2); odd outputs read i (taps 0 + 1) and i+1 (tap 2).
    """
    first, middle, last = weight.unbind(dim)
    return torch.stack([first, middle + last, first + middle, last], dim)


def phase_kernels(weight: torch.Tensor) -> torch.Tensor:
    """[4*out, in, 2, 2] kernels, phase-major (row phase, column phase), from a [out, in, 3, 3] kernel."""
    out_channels, in_channels = weight.shape[:2]
    folded = _fold_taps(_fold_taps(weight, 2), 3).view(out_channels, in_channels, 2, 2, 2, 2)
    return folded.permute(2, 4, 0, 1, 3, 5).reshape(4 * out_channels, in_channels, 2, 2)


def subpixel_upsample_conv(
    hidden_states: torch.Tensor, kernels: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """conv3x3(nearest_upsample_2x(hidden_states)) with zero padding 1, given the ``phase_kernels``."""
    batch, _, height, width = hidden_states.shape
    channels = kernels.shape[0] // 4
    phases = F.conv2d(F.pad(hidden_states, (1, 1, 1, 1)), kernels, None if bias is None else bias.repeat(4))
    phases = phases.view(batch, 2, 2, channels, height + 1, width + 1)
    out = hidden_states.new_empty(batch, channels, height, 2, width, 2)
    for row in (0, 1):
        for col in (0, 1):
            out[:, :, :, row, :, col] = phases[:, row, col, :, row : row + height, col : col + width]
    return out.view(batch, channels, 2 * height, 2 * width)


class SubpixelUpsampleForward:
    """Replaces an ``Upsample2D``'s forward; other output sizes go to the stock forward."""

    def __init__(self, upsampler: Upsample2D):
        self.upsampler = upsampler
        self.conv: nn.Conv2d = upsampler.conv if upsampler.name == "conv" else upsampler.Conv2d_0
        self._kernels: torch.Tensor | None = None

    def kernels(self) -> torch.Tensor:
        weight = self.conv.weight
        if self._kernels is None or self._kernels.device != weight.device or self._kernels.dtype != weight.dtype:
            with torch.no_grad():  # summed in fp32: in bf16 each sum of taps would round again
                self._kernels = phase_kernels(weight.float()).to(weight.dtype)
        return self._kernels

    def release(self) -> None:
        self._kernels = None

    def __call__(self, hidden_states: torch.Tensor, output_size=None, *args, **kwargs) -> torch.Tensor:
        height, width = hidden_states.shape[-2:]
        if output_size is not None and tuple(output_size) != (2 * height, 2 * width):
            return type(self.upsampler).forward(self.upsampler, hidden_states, output_size, *args, **kwargs)
        return subpixel_upsample_conv(hidden_states, self.kernels(), self.conv.bias)


def _is_nearest_then_conv3x3(module: nn.Module) -> bool:
    if not isinstance(module, Upsample2D) or not module.use_conv or module.use_conv_transpose:
        return False
    conv = module.conv if module.name == "conv" else module.Conv2d_0
    return (
        module.interpolate
        and module.norm is None
        and isinstance(conv, nn.Conv2d)
        and conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
    )


def install_subpixel_upsampling(model: nn.Module) -> int:
    """Switch every nearest-2x-then-3x3 ``Upsample2D`` of ``model`` to the subpixel form; returns how many."""
    count = 0
    for module in model.modules():
        if _is_nearest_then_conv3x3(module) and not isinstance(module.__dict__.get("forward"), SubpixelUpsampleForward):
            module.forward = SubpixelUpsampleForward(module)
            count += 1
    return count


def release_subpixel_kernels(model: nn.Module) -> None:
    """Drop the stacked kernels of ``model``'s subpixel upsamplers; the next forward rebuilds them."""
    for module in model.modules():
        forward = module.__dict__.get("forward")
        if isinstance(forward, SubpixelUpsampleForward):
            forward.release()
