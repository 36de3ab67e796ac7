# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line's models folder, and making sure the files a command needs are there (fetching them on request).

The models folder is ``--models``, else $FACEANON_MODELS, else ~/.cache/faceanon; its layout and the
files are the model-file catalog's (`core.model_files`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.catalog.model_files import (
    DEFAULT_MODEL_NAME,
    GROUPS,
    MISSING,
    REFUSED,
    FileStatus,
    ModelFile,
    fetch,
    human_size,
    missing_error,
    record,
    records,
    search_roots,
    status,
)
from ..core.faces.detection_modes import MODE_MODEL_FILES

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
        fetch_missing(root, groups, announce, required_only=True, detection=detection)
    unusable = [s for s in model_file_statuses(root, groups, True, detection) if not s.present]
    if unusable:
        raise missing_error(unusable, CLI_HINT)


def fetch_missing(root: Path, groups: Sequence[str] = GROUPS, announce=print, required_only: bool = False,
                  detection: str | None = None) -> None:
    """Download the missing files of ``groups`` into ``root``.

    ``detection``: the detector files are those this detection mode runs.
    Raises ModelFileError naming every file that could not be fetched, where it goes and its direct link.
    With HF_HUB_OFFLINE set nothing touches the network.
    """
    statuses = model_file_statuses(root, groups, required_only, detection)
    missing = [s for s in statuses if s.state in (MISSING, REFUSED)]
    if not missing and all(s.present for s in statuses):
        announce(f"All model files are present in {root}.")
        return
    announce(f"Downloading {len(missing)} model files, about {human_size(sum(s.size for s in missing))}, into {root}:")
    for planned in missing:
        announce(f"  {planned.path}  (~{human_size(planned.size)})")
    fetch(statuses)
