# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon doctor``: what is installed, which model files are where, and what a run would use."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from .errors import SetupError, UsageError
from .model_paths import GROUPS, diffusion_dir, model_file_statuses, models_root
from .model_sizes import human_size

PACKAGES = ("faceanon", "torch", "diffusers", "transformers", "huggingface_hub", "safetensors",
            ("opencv", ("opencv-python-headless", "opencv-python", "opencv-contrib-python")), "numpy", "pillow")
GROUP_TITLES = {
    "model": "Diffusion model",
    "detector": "Face detector",
    "centerface": "Second face detector (for the default recall mode)",
    "recognizer": "Face recognizer (optional, for identity checks)",
}


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


def _models(root, models_arg) -> tuple[list[str], int]:
    origin = "--models" if models_arg else ("$FACEANON_MODELS" if "FACEANON_MODELS" in __import__("os").environ
                                            else "default")
    lines = [f"Models folder: {root}  ({origin})"]
    statuses = model_file_statuses(root, GROUPS)
    for group in GROUPS:
        folder = diffusion_dir(root) if group == "model" else None
        lines.append(f"  {GROUP_TITLES[group]}" + (f": {folder}" if folder else ""))
        for status in (s for s in statuses if s.group == group):
            if status.present:
                lines.append(f"    present  {status.target}  {human_size(status.size)}")
            else:
                lines.append(f"    MISSING  {status.target}  ~{human_size(status.size)}  from {status.sources[0]}")
    missing = [s for s in statuses if not s.present and s.group != "recognizer"]
    if missing:
        lines.append(f"  {len(missing)} required files missing, about {human_size(sum(s.size for s in missing))}: "
                     f"run `faceanon download` (or add --download to a command)")
    else:
        lines.append("  All required model files are present.")
    return lines, len(missing)


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
    return f"Device: {device}{name}, precision {str(dtype).replace('torch.', '')}" + (
        " (auto)" if args.dtype == "auto" else ""), True


def run(args) -> int:
    """Exit status 1 when torch or a required model file is missing, else 0."""
    root = models_root(args.models)
    print("Installed:")
    print("\n".join(_versions()))
    model_lines, missing = _models(root, args.models)
    print("\n".join(model_lines))
    device_line, device_ok = _device(args)
    print(device_line)
    return 0 if device_ok and not missing else 1
