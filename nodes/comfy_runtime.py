# SPDX-License-Identifier: AGPL-3.0-or-later
"""Access to ComfyUI's modules, with plain fallbacks so the nodes also run (and test) without ComfyUI."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Optional


def comfy_module(name: str) -> Optional[ModuleType]:
    """``comfy.*``, ``folder_paths`` or ``latent_preview`` when running inside ComfyUI, else None."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def throw_if_interrupted() -> None:
    management = comfy_module("comfy.model_management")
    if management is not None:
        management.throw_exception_if_processing_interrupted()
