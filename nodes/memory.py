# SPDX-License-Identifier: AGPL-3.0-or-later
"""Hand the networks to ComfyUI's memory manager.

Each group (UNet, ReferenceNets, encoders) sits in a plain nn.Module holder inside a ModelPatcher:
ModelPatcher writes ``model.device``, which diffusers models expose as a read-only property. ComfyUI's
log names a model by its class ("Requested to load FaceAnonUNet"), so each group has a class of its own.
"""

from __future__ import annotations

from typing import Optional

import torch

from ..core.model.loading import FaceAnonModels
from ..core.model.placement import DirectPlacement
from .comfy_runtime import comfy_module


class _ModelGroup(torch.nn.Module):
    def __init__(self, modules: dict[str, torch.nn.Module]):
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)
        self.device = None


class FaceAnonUNet(_ModelGroup):
    """The denoising UNet."""


class FaceAnonReferenceNets(_ModelGroup):
    """The source (identity) and driving ReferenceNets."""


class FaceAnonEncoders(_ModelGroup):
    """The CLIP image encoder and the VAE, when FaceAnon's own are used."""


class ComfyPlacement:
    """Loads a network's group with ``load_models_gpu`` before use; unloads the ReferenceNets on request."""

    def __init__(self, models: FaceAnonModels):
        self.management = comfy_module("comfy.model_management")
        model_patcher = comfy_module("comfy.model_patcher")
        self.device = self.management.get_torch_device()
        offload = self.management.unet_offload_device()
        groups = {
            "unet": (FaceAnonUNet, {"unet": models.unet}),
            "referencenets": (
                FaceAnonReferenceNets, {"source": models.source_referencenet, "driving": models.driving_referencenet}
            ),
            "encoders": (
                FaceAnonEncoders,
                {k: v for k, v in (("image_encoder", models.image_encoder), ("vae", models.vae)) if v is not None},
            ),
        }
        self.patchers = {}
        self._patcher_of = {}
        for group, (group_class, modules) in groups.items():
            if not modules:
                continue
            patcher = model_patcher.ModelPatcher(group_class(modules), load_device=self.device, offload_device=offload)
            self.patchers[group] = patcher
            for module in modules.values():
                self._patcher_of[id(module)] = patcher

    def _patchers(self, modules) -> list:
        return list({id(p): p for p in (self._patcher_of.get(id(m)) for m in modules) if p is not None}.values())

    def load(self, *modules: torch.nn.Module) -> None:
        self.management.load_models_gpu(self._patchers(modules), force_full_load=True)

    def offload(self, *modules: torch.nn.Module) -> None:
        for patcher in self._patchers(modules):
            if patcher.load_device == patcher.offload_device:
                continue
            for index, loaded in enumerate(self.management.current_loaded_models):
                if loaded.model is patcher:
                    loaded.model_unload()
                    self.management.current_loaded_models.pop(index)
                    break


def make_placement(models: FaceAnonModels, device: torch.device):
    """ComfyUI's memory manager inside ComfyUI, plain placement (with ReferenceNet offload) outside."""
    if comfy_module("comfy.model_patcher") is not None:
        return ComfyPlacement(models)
    return DirectPlacement(device, offload=True)


def compute_device() -> torch.device:
    management = comfy_module("comfy.model_management")
    if management is not None:
        return management.get_torch_device()
    from ..core.model.devices import resolve_device

    return resolve_device(None)


def comfy_half_support(device: torch.device) -> Optional[torch.dtype]:
    """ComfyUI's judgement of a GPU: fp16 where it would use it, else bf16, else None."""
    management = comfy_module("comfy.model_management")
    if management is None:
        return None
    if management.should_use_fp16(device):
        return torch.float16
    if management.should_use_bf16(device):
        return torch.bfloat16
    return None


def auto_dtype(device: torch.device) -> torch.dtype:
    """core's precision rule; on a GPU inside ComfyUI, with ComfyUI's judgement of the card."""
    from ..core.model.precision import auto_dtype as core_auto_dtype

    inside_comfyui = comfy_module("comfy.model_management") is not None
    return core_auto_dtype(device, comfy_half_support if inside_comfyui else None)
