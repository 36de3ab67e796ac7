# SPDX-License-Identifier: AGPL-3.0-or-later
"""Choice of device when the caller leaves it open, and checks of a named one. The precision rule is in
precision.py."""

from __future__ import annotations

import torch

from ..errors import FaceAnonError
from .precision import DTYPES, non_finite_advice, resolve_dtype  # noqa: F401 - their home before 0.3


def device_problem(device: str | torch.device) -> str | None:
    """Why this machine cannot run on ``device``, or None when it can. ``meta`` holds no data, so it
    cannot run anything."""
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as error:
        return f"not a torch device ({error}); e.g. cpu, cuda, cuda:1, mps"
    if chosen.type == "cpu":
        return None
    if chosen.type == "meta":
        return "the meta device holds no data and cannot generate images"
    backend = torch.backends.mps if chosen.type == "mps" else getattr(torch, chosen.type, None)
    is_available = getattr(backend, "is_available", None)
    if is_available is None:
        try:
            torch.empty(1, device=chosen)
        except Exception as error:  # noqa: BLE001 - any backend's failure means: not usable here
            return f"not usable here ({error})"
        return None
    if not is_available():
        built = chosen.type != "cuda" or torch.backends.cuda.is_built()
        return f"no {chosen.type} device is available here" + (
            "" if built else f" (this torch {torch.__version__} was built without CUDA)")
    count = getattr(backend, "device_count", None)
    if chosen.index is not None and count is not None and chosen.index >= count():
        return f"this machine has {count()} {chosen.type} device(s), numbered from 0"
    return None


def check_device(device: str | torch.device) -> torch.device:
    """The device, if this machine has it; otherwise a FaceAnonError that says why (never torch's
    AssertionError from deep inside a CUDA call)."""
    problem = device_problem(device)
    if problem is not None:
        raise FaceAnonError(f"device {str(device)!r}: {problem}")
    return torch.device(device)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The given device (checked, see check_device), else the best available one."""
    if device is not None:
        return check_device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
