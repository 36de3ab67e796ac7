# SPDX-License-Identifier: AGPL-3.0-or-later
"""The precision a run computes in: the one rule behind ``auto`` for the CLI, the nodes and the Python API.

- CUDA: fp16 where the card has fast half precision (compute capability 6 and up), else fp32. ComfyUI's own
  judgement of the card, when the nodes run inside it, is passed in as ``half_support``.
- Apple MPS: fp16.
- CPU: bf16 where the processor computes it natively (Intel AMX or AVX-512 BF16: Sapphire Rapids and later,
  AMD Zen 4 and later), else fp32. There bf16 matrix products and convolutions run 3-6x faster than fp32,
  while fp16 is no faster than fp32, so fp16 is never chosen on a CPU. Elsewhere bf16 is emulated and slower.

fp32 stays one flag away (``--dtype fp32``, the node's precision ``fp32``, ``dtype="fp32"``) and is the parity
reference. What bf16 changes is measured by ``bench/bench_core.py --end-to-end`` and stated in the README.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

from ..errors import FaceAnonError
from ..options import PRECISIONS

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
PRECISION_CHOICES = PRECISIONS  # "auto" and the names of DTYPES
# CPU features that run bf16 arithmetic in hardware (the names of torch's capability report and of Linux's
# /proc/cpuinfo flags).
NATIVE_BF16_CPU_FEATURES = ("amx_bf16", "avx512_bf16")

# For a GPU, an answer to "fp16? bf16?" from the host application (ComfyUI's model_management).
HalfSupport = Callable[[torch.device], Optional[torch.dtype]]


def _cpu_features() -> set[str]:
    """The CPU's feature names, from torch when it reports them, else from /proc/cpuinfo."""
    report = getattr(getattr(torch._C, "_cpu", None), "_get_cpu_capability", None)
    if report is not None:
        try:
            capability = report()
        except Exception:  # noqa: BLE001 - a private API; fall back to the kernel's list
            capability = None
        if isinstance(capability, dict):
            return {name for name, present in capability.items() if present is True}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 arithmetic in hardware (see NATIVE_BF16_CPU_FEATURES)."""
    return bool(_cpu_features() & set(NATIVE_BF16_CPU_FEATURES))


def auto_dtype(device: torch.device, half_support: Optional[HalfSupport] = None) -> torch.dtype:
    """The precision ``auto`` means on ``device`` (see the module docstring)."""
    device = torch.device(device)
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    if half_support is not None:
        return half_support(device) or torch.float32
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        return torch.float16 if major >= 6 else torch.float32
    if device.type == "mps":
        return torch.float16
    return torch.float32


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """The named precision, or ``auto_dtype`` when the caller leaves it open (None or "auto")."""
    if isinstance(dtype, torch.dtype):
        if dtype not in DTYPES.values():
            raise FaceAnonError(f"dtype must be one of {list(DTYPES)}, got {dtype}")
        return dtype
    if dtype in (None, "auto"):
        return auto_dtype(device)
    if dtype not in DTYPES:
        raise FaceAnonError(f"dtype must be 'auto' or one of {list(DTYPES)}, got {dtype!r}")
    return DTYPES[dtype]


def dtype_name(dtype: torch.dtype) -> str:
    return next((key for key, value in DTYPES.items() if value == dtype), str(dtype))


def non_finite_advice(dtype: torch.dtype | None) -> str:
    """What to do about NaN or infinite model output: in half precision it is usually an overflow that
    fp32 avoids; in fp32 the weights (or the inputs) hold such values, and only other files help."""
    if dtype is None or dtype == torch.float32:
        return ("in fp32, so not a half-precision overflow: the model weights or the inputs hold NaN or infinite "
                "values; check or re-download the model files")
    return f"in {dtype_name(dtype)}, likely an overflow of half precision; load the model in fp32 (--dtype fp32)"
