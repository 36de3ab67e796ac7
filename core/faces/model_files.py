# SPDX-License-Identifier: AGPL-3.0-or-later
"""The face detector and recognizer files by role, kept for older imports.

Everything here is a short caller of the model-file catalog (`core.model_files`), where the files,
their folders and their sources are described.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..catalog.hub import CONNECT_TIMEOUT_S
from ..catalog.model_files import (
    CENTERFACE,
    MODELS_ENV,
    SFACE,
    YUNET,
    ModelFile,
    default_models_dir,
    fetch,
    folder_for,
    locate,
    missing_error,
    record,
    search_roots,
    status,
    status_in_folder,
)
from ..errors import ModelDownloadError, ModelFileMissingError

MODELS_DIR_ENV = MODELS_ENV
ROLES = {"detector": YUNET.key, "centerface": CENTERFACE.key, "recognizer": SFACE.key}
MODEL_FILES: dict[str, ModelFile] = {role: record(key) for role, key in ROLES.items()}  # the catalog's, by role

__all__ = [
    "MODELS_DIR_ENV", "MODEL_FILES", "ModelDownloadError", "ModelFile", "ModelFileMissingError", "default_models_dir",
    "download_detector", "download_model_file", "download_recognizer", "find_model_file", "model_dir",
    "resolve_detector_path", "resolve_model_file", "resolve_recognizer_path",
]


def _record(role: str) -> ModelFile:
    if role not in ROLES:
        raise ValueError(f"unknown model role {role!r}; known: {', '.join(ROLES)}")
    return record(ROLES[role])


def model_dir(role: str, models_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds files of ``role`` ("detector" or "recognizer")."""
    return folder_for(_record(role), search_roots(models_dir)[0])


def find_model_file(role: str, models_dir: str | os.PathLike | None = None) -> Optional[Path]:
    return locate(_record(role), search_roots(models_dir))


def resolve_model_file(role: str, models_dir: str | os.PathLike | None = None) -> Path:
    """The file of ``role``, or ModelFileMissingError saying where it goes and where to get it."""
    spec, roots = _record(role), search_roots(models_dir)
    path = locate(spec, roots)
    if path is None:
        raise missing_error([status(spec, roots)])
    return path


def resolve_detector_path(models_dir: str | os.PathLike | None = None) -> Path:
    return resolve_model_file("detector", models_dir)


def resolve_recognizer_path(models_dir: str | os.PathLike | None = None) -> Path:
    return resolve_model_file("recognizer", models_dir)


def download_model_file(
    role: str, dest_dir: str | os.PathLike | None = None, *, progress: bool = True, timeout: float = CONNECT_TIMEOUT_S
) -> Path:
    """Download the file of ``role`` into ``dest_dir`` (default: its folder in the default models folder)."""
    folder = Path(dest_dir).expanduser() if dest_dir is not None else model_dir(role)
    planned = status_in_folder(_record(role), folder)
    written = fetch([planned], progress=progress, timeout=timeout)
    return written[0] if written else planned.path


def download_detector(dest_dir: str | os.PathLike | None = None, progress: bool = True, **kwargs) -> Path:
    return download_model_file("detector", dest_dir, progress=progress, **kwargs)


def download_recognizer(dest_dir: str | os.PathLike | None = None, progress: bool = True, **kwargs) -> Path:
    return download_model_file("recognizer", dest_dir, progress=progress, **kwargs)
