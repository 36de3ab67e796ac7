# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon doctor``: what is installed, which model files are where, and what a run would use."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from ..core.catalog.model_files import (
    CORRUPT,
    GROUP_TITLES,
    GROUPS,
    OPTIONAL_GROUPS,
    REFUSED,
    env_models_dir,
    human_size,
    source_links,
)
from .errors import SetupError, UsageError
from .model_paths import diffusion_dir, model_file_statuses, models_root

PACKAGES = ("faceanon", "torch", "diffusers", "transformers", "huggingface_hub", "safetensors",
            ("opencv", ("opencv-python-headless", "opencv-python", "opencv-contrib-python")), "numpy", "pillow")


def _version(distributions) -> str:
    for name in distributions:
        try:
            return f"{metadata.version(name)}" + ("" if len(distributions) == 1 else f" ({name})")
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _versions() -> list[str]:
    lines = [f"  {'python':<16}{platform.python_version()} ({sys.executable})"]
    for package in PACKAGES:
        label, distributions = package if isinstance(package, tuple) else (package, (package,))
        lines.append(f"  {label:<16}{_version(distributions)}")
    return lines


def _files(count: int) -> str:
    return f"{count} required file{'' if count == 1 else 's'}"


def _file_line(status) -> str:
    optional = "" if status.record.required else " (optional)"
    if status.present:
        return f"    present  {status.path}  {human_size(status.size)}"
    if status.state == CORRUPT:
        return f"    CORRUPT  {status.path}  {human_size(status.size)}: {status.problem}"
    source = "  or  ".join(source_links(status.record))
    if status.state == REFUSED:
        return f"    REFUSED  {status.path}  {status.problem}; get it (~{human_size(status.size)}) from {source}"
    return f"    MISSING{optional}  {status.path}  ~{human_size(status.size)}  from {source}"


def _models(root, models_arg) -> tuple[list[str], int]:
    origin = "--models" if models_arg else ("$FACEANON_MODELS" if env_models_dir() else "default")
    lines = [f"Models folder: {root}  ({origin})"]
    statuses = model_file_statuses(root, GROUPS)
    for group in GROUPS:
        folder = diffusion_dir(root) if group == "model" else None
        lines.append(f"  {GROUP_TITLES[group]}" + (f": {folder}" if folder else ""))
        lines += [_file_line(s) for s in statuses if s.record.group == group]
    needed = [s for s in statuses if s.record.required and s.record.group not in OPTIONAL_GROUPS and not s.present]
    missing = [s for s in needed if s.state != CORRUPT]
    corrupt = [s for s in needed if s.state == CORRUPT]
    if missing:
        lines.append(f"  {_files(len(missing))} missing, about {human_size(sum(s.size for s in missing))}: "
                     f"run `faceanon download` (or add --download to a command)")
    if corrupt:
        lines.append(f"  {_files(len(corrupt))} corrupt: move them away, then run `faceanon download`")
    if not needed:
        lines.append("  All required model files are present.")
    return lines, len(needed)


def _device(args) -> tuple[str, bool]:
    from .devices import choose_device_and_dtype

    try:
        device, dtype = choose_device_and_dtype(args.device, args.dtype)
    except (SetupError, UsageError) as error:
        return f"Device: unavailable: {error}", False
    name = ""
    if device.type == "cuda":
        import torch

        name = f", {torch.cuda.get_device_name(device)}"
    from ..core.model.precision import dtype_name

    how = ""
    if args.dtype == "auto":
        native = device.type == "cpu" and dtype_name(dtype) == "bf16"
        how = " (auto: this CPU computes bf16 natively)" if native else " (auto)"
    return f"Device: {device}{name}, precision {dtype_name(dtype)}{how}", True


def run(args) -> int:
    """Exit status 1 when torch or a required model file is missing, else 0."""
    root = models_root(args.models)
    print("Installed:")
    print("\n".join(_versions()))
    model_lines, missing = _models(root, args.models)
    print("\n".join(model_lines))
    device_line, device_ok = _device(args)
    print(device_line)
    if not (device_ok and not missing):
        return 1
    if args.compare_precision:
        from .devices import choose_device_and_dtype
        from .precision_check import run_comparison

        return run_comparison(args, root, choose_device_and_dtype(args.device, args.dtype)[0])
    return 0
