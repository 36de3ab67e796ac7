# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ``face_anon`` model folder, registered with ComfyUI's folder_paths so extra_model_paths.yaml works."""

from __future__ import annotations

import os

from ..core.model_files import is_model_folder
from .comfy_runtime import comfy_module

FOLDER_KEY = "face_anon"
DEFAULT_MODEL_NAME = "face-anon-simple"
MODELS_ENV = "FACEANON_MODELS"


def register_model_folder() -> None:
    """Add <models>/face_anon to folder_paths, keeping any paths extra_model_paths.yaml already added."""
    folder_paths = comfy_module("folder_paths")
    if folder_paths is None:
        return
    default = os.path.join(folder_paths.models_dir, FOLDER_KEY)
    paths, _ = folder_paths.folder_names_and_paths.get(FOLDER_KEY, ([], set()))
    if default not in paths:
        paths.append(default)
    folder_paths.folder_names_and_paths[FOLDER_KEY] = (paths, set(folder_paths.supported_pt_extensions))


def model_roots() -> list[str]:
    """Every folder searched for models: ComfyUI's face_anon paths, else $FACEANON_MODELS."""
    folder_paths = comfy_module("folder_paths")
    if folder_paths is not None and FOLDER_KEY in folder_paths.folder_names_and_paths:
        return folder_paths.get_folder_paths(FOLDER_KEY)
    env = os.environ.get(MODELS_ENV)
    return [env] if env else []


def available_models() -> list[str]:
    """Names of model folders (with unet/, referencenet/, conditioning_referencenet/), plus the default
    name so it can be chosen for download."""
    names = {DEFAULT_MODEL_NAME}
    for root in model_roots():
        if os.path.isdir(root):
            names.update(n for n in os.listdir(root) if is_model_folder(os.path.join(root, n)))
    return sorted(names)


def model_path(name: str) -> str:
    """The folder of model ``name``: the first root that has it, else where a download would put it."""
    roots = model_roots()
    for root in roots:
        candidate = os.path.join(root, name)
        if os.path.isdir(candidate):
            return candidate
    if not roots:
        raise FileNotFoundError(
            f"No face_anon model folder is configured; put models under ComfyUI/models/{FOLDER_KEY}/ "
            f"or set ${MODELS_ENV}."
        )
    return os.path.join(roots[0], name)
