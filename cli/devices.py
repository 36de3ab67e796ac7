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
    import_torch()
    from ..core.model.devices import device_problem, resolve_device
    from ..core.model.precision import resolve_dtype

    problem = None if device is None else device_problem(device)
    if problem is not None:
        raise UsageError(f"--device {device}: {problem}")
    chosen = resolve_device(device)
    return chosen, resolve_dtype(dtype, chosen)
