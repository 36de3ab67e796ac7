# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line's models folder, and making sure the files a command needs are there.

The models folder is ``--models``, else $FACEANON_MODELS, else ~/.cache/faceanon; its layout and the
files are the model-file catalog's (`core.model_files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.faces.detection_modes import MODE_MODEL_FILES
from ..core.model_files import (
    DEFAULT_MODEL_NAME, GROUPS, FileStatus, ModelFile, missing_error, record, records, search_roots, status,
)

CLI_HINT = ("Add --download (or run `faceanon download`) to fetch them, or point --models or $FACEANON_MODELS at the "
            "folder that has them.")


def models_root(models: str | None) -> Path:
    return search_roots(models)[0]


def diffusion_dir(root: Path) -> Path:
    return root / DEFAULT_MODEL_NAME


def model_file_statuses(root: Path, groups: Sequence[str] = GROUPS, required_only: bool = False,
                        detection: str | None = None) -> list[FileStatus]:
    return [status(record, [root]) for record in run_records(groups, required_only, detection)]


def run_records(groups: Sequence[str], required_only: bool = False, detection: str | None = None) -> list[ModelFile]:
    """The catalog files of ``groups``; with ``detection``, the detector files are those that mode runs."""
    if detection is None:
        return records(groups, required_only=required_only)
    wanted = records([g for g in groups if g != "detector"], required_only=required_only)
    return wanted + ([record(key) for key in MODE_MODEL_FILES[detection]] if "detector" in groups else [])


def require_models(root: Path, groups: Sequence[str], download: bool, announce=print,
                   detection: str | None = None) -> None:
    """Make sure the files of ``groups`` that a run needs are usable, downloading them first with ``download``.

    ``detection`` names the detection mode, whose detector files are then the ones needed."""
    if download:
        from .fetch import fetch_missing

        fetch_missing(root, groups, announce, required_only=True, detection=detection)
    unusable = [s for s in model_file_statuses(root, groups, True, detection) if not s.present]
    if unusable:
        raise missing_error(unusable, CLI_HINT)
