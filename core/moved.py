# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where the modules of the flat ``core/`` of 0.2 live now. The old import paths (``faceanon.core.pipeline``)
keep working for one release: they give the module itself, so patching either name patches both."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    **{name: f"model.{name}" for name in (
        "attention_processors", "blending", "clip_preprocessing", "devices", "images", "loading", "pipeline",
        "placement", "precision", "randomness", "reference", "reference_bank", "reference_routing", "sampling",
        "schedulers", "sd21", "seeds", "state_recorder")},
    **{name: f"speedups.{name}" for name in (
        "cross_attention", "cpu_heap", "split_geglu", "subpixel_upsampling", "vae_layout")},
    **{name: f"catalog.{name}" for name in (
        "model_catalog", "model_download", "model_files", "model_locate", "model_messages", "model_records",
        "model_roots", "download", "hub")},
    **{name: f"engine.{name}" for name in (
        "face_report", "face_settings", "face_stages", "photos", "precision_comparison", "private_save",
        "redacted_faces", "verification", "verified_faces")},
}


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module at its new place (importlib then hands out what sys.modules holds)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.target)


class MovedModules(importlib.abc.MetaPathFinder):
    def __init__(self, package: str):
        self.prefix = package + "."

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(self.prefix) and fullname[len(self.prefix):] in MOVED:
            return importlib.util.spec_from_loader(fullname, _Alias(self.prefix + MOVED[fullname[len(self.prefix):]]))
        return None


def install(package: str) -> None:
    if not any(isinstance(f, MovedModules) and f.prefix == package + "." for f in sys.meta_path):
        sys.meta_path.append(MovedModules(package))
