# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ``face_anon`` model folders, and the model files the loader nodes take from them.

The folders are registered with ComfyUI's folder_paths, so extra_model_paths.yaml works; they are searched
before $FACEANON_MODELS. What the files are and where they come from is the core catalog's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from ..core.catalog.model_files import (
    DEFAULT_MODEL_NAME,
    ModelFile,
    download,
    file_names,
    locate_named,
    model_names,
    require,
    search_roots,
)
from ..core.errors import FaceAnonError, ModelDownloadError, ModelFileMissingError
from .comfy_runtime import comfy_module

FOLDER_KEY = "face_anon"
AUTO = "auto"
DOWNLOAD_HINT = "Turn on this node's 'download' toggle to fetch them, or put the files at the paths shown."


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


def model_roots() -> list[Path]:
    """Every folder searched for models: ComfyUI's face_anon paths, then $FACEANON_MODELS."""
    folder_paths = comfy_module("folder_paths")
    comfy_roots = []
    if folder_paths is not None and FOLDER_KEY in folder_paths.folder_names_and_paths:
        comfy_roots = folder_paths.get_folder_paths(FOLDER_KEY)
    return search_roots(extra_roots=comfy_roots)


def available_models() -> list[str]:
    """Names of model folders (with unet/, referencenet/, conditioning_referencenet/), plus the default
    name so it can be chosen for download."""
    return sorted({DEFAULT_MODEL_NAME, *model_names(model_roots())})


def model_path(name: str) -> str:
    """The folder of model ``name``: the first root that has it, else where a download would put it."""
    roots = model_roots()
    return str(next((root / name for root in roots if (root / name).is_dir()), roots[0] / name))


def file_choices(records: Sequence[ModelFile]) -> list[str]:
    """A file dropdown: ``auto`` (the best file found), then every accepted file found, by name."""
    return [AUTO, *file_names(records, model_roots())]


def model_file(record: ModelFile, choice: str, fetch: bool, input_name: str) -> Path:
    """The file chosen in a dropdown, or with ``auto`` the best one found, fetched first when ``fetch``."""
    roots = model_roots()
    if choice != AUTO:
        path = locate_named(record, choice, roots)
        if path is None:
            raise FaceAnonError(f"{input_name}: {choice!r} is not in {', '.join(str(r) for r in roots)}; "
                                f"choose '{AUTO}' or a file the list offers.")
        return path
    if fetch:
        download([record], roots)
    with download_hint():
        return require([record], roots)[0]


@contextmanager
def download_hint():
    """Missing-file errors end by pointing at the node's own download toggle."""
    try:
        yield
    except ModelDownloadError:
        raise
    except ModelFileMissingError as error:
        raise error.with_hint(DOWNLOAD_HINT) from None
