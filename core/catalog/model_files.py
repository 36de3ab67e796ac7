# SPDX-License-Identifier: AGPL-3.0-or-later
"""The model files, in one place: the catalog and its three functions, `locate`, `status` and `download`.

`require` is what loaders call: the paths of files that are present and usable, else one error that lists
every missing or unusable file, where it goes and where to get it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from .model_catalog import (
    CATALOG,
    CENTERFACE,
    DEFAULT_MODEL_NAME,
    DIFFUSION_COMPONENTS,
    DIFFUSION_NETS,
    GROUP_FOLDERS,
    GROUP_TITLES,
    GROUPS,
    OPTIONAL_GROUPS,
    PICKLE_SUFFIXES,
    SFACE,
    YUNET,
    component_records,
    diffusion_records,
    record,
    records,
)
from .model_download import download, fetch
from .model_locate import (
    CORRUPT,
    MISSING,
    PRESENT,
    REFUSED,
    FileStatus,
    file_names,
    folder_for,
    is_model_folder,
    locate,
    locate_named,
    model_names,
    status,
    status_in_folder,
)
from .model_messages import HINT, file_line, human_size, missing_error, source_links
from .model_records import HubFile, ModelFile, PackageFile, WebFile
from .model_roots import MODELS_ENV, default_models_dir, env_models_dir, search_roots

__all__ = [
    "CATALOG", "CENTERFACE", "CORRUPT", "MISSING", "PRESENT", "REFUSED", "DEFAULT_MODEL_NAME", "DIFFUSION_COMPONENTS", "DIFFUSION_NETS", "GROUPS", "GROUP_FOLDERS", "GROUP_TITLES",
    "MODELS_ENV", "OPTIONAL_GROUPS", "PICKLE_SUFFIXES", "SFACE", "YUNET", "FileStatus", "HubFile", "ModelFile", "PackageFile", "WebFile",
    "component_records", "default_models_dir", "diffusion_records", "download", "fetch", "env_models_dir", "file_line", "file_names",
    "folder_for", "human_size", "is_model_folder", "locate", "locate_named", "missing_error", "model_names", "record",
    "records", "require", "require_in_folders", "search_roots", "source_links", "status", "status_in_folder",
]


def require(
    wanted: Sequence[ModelFile],
    roots: Sequence[os.PathLike | str],
    model_name: Optional[str] = None,
    hint: str = HINT,
) -> list[Path]:
    """The paths of ``wanted`` under ``roots``; raises ModelFileMissingError listing every file that is not usable."""
    return _usable([status(r, roots, model_name) for r in wanted], hint)


def require_in_folders(wanted: Sequence[tuple[ModelFile, os.PathLike | str]], hint: str = HINT) -> list[Path]:
    """``require`` for files that must be in given folders (component folders a caller points at)."""
    return _usable([status_in_folder(r, folder) for r, folder in wanted], hint)


def _usable(statuses: Sequence[FileStatus], hint: str) -> list[Path]:
    unusable = [s for s in statuses if not s.present]
    if unusable:
        raise missing_error(unusable, hint)
    return [s.path for s in statuses]
