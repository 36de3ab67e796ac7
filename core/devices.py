# SPDX-License-Identifier: AGPL-3.0-or-later
"""Choice of device and dtype when the caller leaves them open."""

from __future__ import annotations

import torch

from .errors import FaceAnonError

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """fp16 on CUDA/MPS, bf16 on CUDA without fp16 support, fp32 on CPU, unless the caller names one."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise FaceAnonError(f"dtype must be one of {list(DTYPES)}, got {dtype}")
        return dtype
    if dtype not in (None, "auto"):
        if dtype not in DTYPES:
            raise FaceAnonError(f"dtype must be 'auto' or one of {list(DTYPES)}, got {dtype!r}")
        return DTYPES[dtype]
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        return torch.float16 if major >= 6 else torch.float32
    if device.type == "mps":
        return torch.float16
    return torch.float32
