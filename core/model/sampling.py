# SPDX-License-Identifier: AGPL-3.0-or-later
"""The denoising loop: v-prediction UNet with references, classifier-free guidance, optional img2img."""

from __future__ import annotations

import inspect
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from diffusers import UNet2DConditionModel
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from ..errors import FaceAnonError
from ..speedups.cpu_heap import retained_cpu_heap
from ..speedups.subpixel_upsampling import release_subpixel_kernels
from .precision import non_finite_advice
from .reference_bank import ReferenceBank

States = dict[str, torch.Tensor]
ProgressCallback = Callable[[int, int, torch.Tensor], None]


@dataclass
class Conditioning:
    """What the UNet attends to for B images.

    With guidance the UNet batch is [unconditional; conditional] (2B rows): the unconditional half sees the
    null source states and a zero source embedding, and both halves see the same driving states.
    """

    source_states: States  # B or 2B rows
    driving_states: States  # B rows
    context: torch.Tensor  # [rows, 2, C]: source and driving CLIP embeddings as two tokens
    guided: bool


def _accepts_generator(scheduler: SchedulerMixin) -> bool:
    return "generator" in inspect.signature(scheduler.step).parameters


def schedule(scheduler: SchedulerMixin, steps: int, strength: float, device) -> torch.Tensor:
    """Timesteps to run. With strength < 1 the schedule is stretched to steps/strength and only its last
    ``steps`` are run, as ComfyUI's ``denoise`` does."""
    total = steps if strength >= 1 else max(steps, int(steps / strength))
    scheduler.set_timesteps(total, device=device)
    begin = total - steps
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(begin)
    return scheduler.timesteps[begin:]


def v_to_x0(scheduler: SchedulerMixin, model_input: torch.Tensor, v: torch.Tensor, t) -> torch.Tensor:
    """The clean-latent estimate of a v-prediction at timestep t."""
    alpha_bar = scheduler.alphas_cumprod[int(round(float(t)))].to(model_input.device, torch.float32)
    return alpha_bar.sqrt() * model_input.float() - (1 - alpha_bar).sqrt() * v.float()


def _latent_mask(mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if mask.ndim == 2:
        mask = mask[None]
    if mask.ndim == 3:
        mask = mask[:, None]
    if mask.ndim != 4 or mask.shape[1] != 1:
        raise FaceAnonError(f"mask: expected [B,H,W] or [B,1,H,W], got shape {tuple(mask.shape)}")
    if mask.shape[0] not in (1, like.shape[0]):
        raise FaceAnonError(f"mask: has {mask.shape[0]} masks for {like.shape[0]} latents; expected 1 or the same")
    mask = F.interpolate(mask.float(), size=like.shape[-2:], mode="bilinear", align_corners=False)
    return mask.clamp(0, 1).to(like.device).expand(like.shape[0], *like.shape[1:])


class Denoiser:
    """Runs the UNet against a ReferenceBank; recovers from half-precision overflow by upcasting."""

    def __init__(self, unet: UNet2DConditionModel, bank: ReferenceBank):
        self.unet = unet
        self.bank = bank

    def predict_branches(
        self, sample: torch.Tensor, t, conditioning: Conditioning
    ) -> tuple[Optional[torch.Tensor], torch.Tensor]:
        """Float32 v of the unconditional branch (None without guidance) and of the conditional branch."""
        rows = torch.cat([sample, sample]) if conditioning.guided else sample
        dtype = self.unet.dtype
        context = conditioning.context.to(sample.device, dtype)
        v = self.unet(rows.to(dtype), t, encoder_hidden_states=context, return_dict=False)[0]
        if not torch.isfinite(v).all():
            if dtype == torch.float32 or self.bank.upcast:
                raise FaceAnonError(f"The UNet produced non-finite values {non_finite_advice(dtype)}.")
            warnings.warn(f"Non-finite UNet output in {dtype}; recomputing with fp32 attention.", stacklevel=2)
            self.bank.upcast = True
            v = self.unet(rows.to(dtype), t, encoder_hidden_states=context, return_dict=False)[0]
        v = v.float()
        return tuple(v.chunk(2)) if conditioning.guided else (None, v)

    def predict(self, sample: torch.Tensor, t, conditioning: Conditioning, guidance: float) -> torch.Tensor:
        """Guided v: u + w (c - u)."""
        unconditional, conditional = self.predict_branches(sample, t, conditioning)
        if unconditional is None:
            return conditional
        return unconditional + guidance * (conditional - unconditional)

    @contextmanager
    def references(self, conditioning: Conditioning):
        """Make the conditioning's states visible to the UNet's attention for the duration."""
        self.bank.load(conditioning.source_states, conditioning.driving_states)
        try:
            with retained_cpu_heap(self.unet.device):
                yield self
        finally:
            self.bank.clear()
            release_subpixel_kernels(self.unet)

    @torch.no_grad()
    def __call__(
        self,
        conditioning: Conditioning,
        scheduler: SchedulerMixin,
        generators: list[torch.Generator],
        noise: torch.Tensor,
        steps: int,
        guidance: float,
        init_latents: Optional[torch.Tensor] = None,
        strength: float = 1.0,
        mask: Optional[torch.Tensor] = None,
        callback: Optional[ProgressCallback] = None,
    ) -> torch.Tensor:
        """Scaled latents [B, 4, h, w] (float32).

        ``init_latents`` with ``strength`` < 1 starts from those latents re-noised to the first timestep;
        ``mask`` (1 = generate) keeps the re-noised ``init_latents`` outside it at every step.
        """
        if init_latents is None and (strength < 1 or mask is not None):
            raise FaceAnonError("denoise < 1 and noise masks need input latents")
        if init_latents is not None and strength <= 0:
            return init_latents.float().clone()
        with self.references(conditioning):
            device = noise.device
            timesteps = schedule(scheduler, steps, strength, device)
            if init_latents is None:
                x = noise * scheduler.init_noise_sigma
            else:
                init_latents = init_latents.float().to(device)
                x = scheduler.add_noise(init_latents, noise, timesteps[:1])
            keep = None if mask is None else 1 - _latent_mask(mask, x)
            step_kwargs = {"generator": generators} if _accepts_generator(scheduler) else {}
            for i, t in enumerate(timesteps):
                model_input = scheduler.scale_model_input(x, t)
                v = self.predict(model_input, t, conditioning, guidance)
                x0 = v_to_x0(scheduler, model_input, v, t)
                x = scheduler.step(v, t, x, return_dict=False, **step_kwargs)[0]
                if keep is not None:
                    last = i + 1 == len(timesteps)
                    known = init_latents if last else scheduler.add_noise(init_latents, noise, timesteps[i + 1 : i + 2])
                    x = x * (1 - keep) + known * keep
                if callback is not None:
                    callback(i + 1, len(timesteps), x0)
            return x.float()
