# SPDX-License-Identifier: AGPL-3.0-or-later
"""Samplers for the v-prediction SD2.1 schedule, as diffusers schedulers."""

from __future__ import annotations

from diffusers import (
    DDIMScheduler,
    DDPMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    UniPCMultistepScheduler,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from ..errors import FaceAnonError

# stabilityai/stable-diffusion-2-1 scheduler/scheduler_config.json, which the official pipeline loads
# into a DDPMScheduler. No timestep_spacing: each scheduler keeps its own default ("leading" for DDPM).
SD21_SCHEDULER_CONFIG = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "trained_betas": None,
}

SCHEDULERS = {
    "ddpm": (DDPMScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "euler": (EulerDiscreteScheduler, {}),
    "dpmpp_2m_karras": (
        DPMSolverMultistepScheduler,
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
    ),
    "unipc": (UniPCMultistepScheduler, {}),
}
SCHEDULER_NAMES = tuple(SCHEDULERS)


def make_scheduler(name: str, config: dict | None = None) -> SchedulerMixin:
    """A fresh scheduler of the given name on the model's schedule (SD2.1 by default)."""
    if name not in SCHEDULERS:
        raise FaceAnonError(f"scheduler must be one of {list(SCHEDULER_NAMES)}, got {name!r}")
    cls, overrides = SCHEDULERS[name]
    base = {k: v for k, v in (config or SD21_SCHEDULER_CONFIG).items() if not k.startswith("_")}
    return cls.from_config({**base, **overrides, "prediction_type": "v_prediction"})
