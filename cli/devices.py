# SPDX-License-Identifier: AGPL-3.0-or-later
"""torch, the device and the precision, with errors that say what to install or choose."""

from __future__ import annotations

from .errors import SetupError, UsageError

TORCH_HINT = ('torch is not installed. Install your own build (e.g. CUDA, from https://pytorch.org), '
              'or the CPU build with: pip install "faceanon[torch]"')


def import_torch():
    try:
        import torch
    except ImportError:
        raise SetupError(TORCH_HINT) from None
    return torch


def choose_device_and_dtype(device: str | None, dtype: str = "auto"):
    """(torch.device, torch.dtype) a run would use; refuses a device this machine does not have."""
    torch = import_torch()
    from ..core.devices import resolve_device, resolve_dtype

    try:
        chosen = resolve_device(device)
    except (RuntimeError, ValueError) as error:
        raise UsageError(f"--device {device}: {error}") from None
    available = {
        "cuda": torch.cuda.is_available,
        "mps": lambda: getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available(),
    }.get(chosen.type, lambda: True)
    if not available():
        raise UsageError(f"--device {device}: no {chosen.type} device is available here")
    return chosen, resolve_dtype(None if dtype == "auto" else dtype, chosen)
