# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line's models folder, and making sure the files a command needs are there.

The models folder is ``--models``, else $FACEANON_MODELS, else ~/.cache/faceanon; its layout and the
files are the model-file catalog's (`core.model_files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.model_files import DEFAULT_MODEL_NAME, FileStatus, GROUPS, missing_error, records, search_roots, status

CLI_HINT = ("Add --download (or run `faceanon download`) to fetch them, or point --models or $FACEANON_MODELS at the "
            "folder that has them.")


def models_root(models: str | None) -> Path:
    return search_roots(models)[0]


def diffusion_dir(root: Path) -> Path:
    return root / DEFAULT_MODEL_NAME


def model_file_statuses(root: Path, groups: Sequence[str] = GROUPS, required_only: bool = False) -> list[FileStatus]:
    return [status(record, [root]) for record in records(groups, required_only=required_only)]


def require_models(root: Path, groups: Sequence[str], download: bool, announce=print) -> None:
    """Make sure the files of ``groups`` that a run needs are usable, downloading them first with ``download``."""
    if download:
        from .fetch import fetch_missing

        fetch_missing(root, groups, announce, required_only=True)
    unusable = [s for s in model_file_statuses(root, groups, required_only=True) if not s.present]
    if unusable:
        raise missing_error(unusable, CLI_HINT)
