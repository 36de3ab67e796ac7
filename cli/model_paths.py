# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where the command line looks for model files, and which of them are present.

The models folder (``--models``, else $FACEANON_MODELS, else ~/.cache/faceanon) holds the diffusion
model in ``face-anon-simple/`` and the face detector and recognizer in ``detectors/`` and
``recognizers/``, as the core library expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.download import missing_files, planned_files
from ..core.errors import ModelFileError
from ..core.faces.detection_modes import MODE_MODEL_FILES
from ..core.faces.model_files import (
    MODEL_FILES,
    default_models_dir,
    find_model_file,
    model_dir,
)
from ..core.hub import hub_endpoint
from .model_sizes import approximate_size

DIFFUSION_FOLDER = "face-anon-simple"
GROUPS = ("model", "detector", "centerface", "recognizer")


@dataclass(frozen=True)
class ModelFileStatus:
    group: str  # one of GROUPS
    target: Path  # where the file is, or would go
    sources: tuple[str, ...]  # where to download it from, best first
    size: int  # bytes on disk when present, else approximate
    present: bool


def detector_files(mode: str) -> tuple[str, ...]:
    """The groups of face detector files the detection ``mode`` needs."""
    return MODE_MODEL_FILES[mode]


def models_root(models: str | None) -> Path:
    return Path(models).expanduser() if models else default_models_dir()


def diffusion_dir(root: Path) -> Path:
    return root / DIFFUSION_FOLDER


def _diffusion_statuses(root: Path) -> list[ModelFileStatus]:
    folder = str(diffusion_dir(root))
    missing = {planned.target for planned in missing_files(folder)}
    statuses = []
    for planned in planned_files(folder):
        target = Path(planned.target)
        present = planned.target not in missing
        if present and not target.is_file():  # an accepted variant, e.g. the fp16 weights
            target = next(target.parent / n for n in planned.component.weight_names if (target.parent / n).is_file())
        size = target.stat().st_size if present else approximate_size(planned.component.repo, planned.repo_file)
        source = f"{hub_endpoint()}/{planned.component.repo}/blob/main/{planned.repo_file}"
        statuses.append(ModelFileStatus("model", target, (source,), size, present))
    return statuses


def _face_model_status(role: str, root: Path) -> ModelFileStatus:
    spec = MODEL_FILES[role]
    found = find_model_file(role, root)
    target = found or model_dir(role, root) / spec.file_name
    size = found.stat().st_size if found else (spec.size or approximate_size(spec.hub_repo, spec.file_name))
    sources = tuple(url for url in (spec.hub_url(hub_endpoint()), spec.url, *spec.fallback_urls) if url)
    return ModelFileStatus(role, target, sources, size, found is not None)


def model_file_statuses(root: Path, groups: Sequence[str] = GROUPS) -> list[ModelFileStatus]:
    statuses = []
    for group in groups:
        statuses += _diffusion_statuses(root) if group == "model" else [_face_model_status(group, root)]
    return statuses


def describe_missing(statuses: Sequence[ModelFileStatus]) -> str:
    return "\n".join(f"  {s.target}  <-  {'  or  '.join(s.sources)}" for s in statuses)


def require_models(root: Path, groups: Sequence[str], download: bool, announce=print) -> None:
    """Make sure the files of ``groups`` are present, downloading them first with ``download``."""
    if download:
        from .fetch import fetch_missing

        fetch_missing(root, groups, announce)
    missing = [s for s in model_file_statuses(root, groups) if not s.present]
    if missing:
        raise ModelFileError(
            f"{len(missing)} model files are missing from {root}:\n{describe_missing(missing)}\n"
            f"Add --download (or run `faceanon download`) to fetch them, or point --models or "
            f"$FACEANON_MODELS at the folder that has them."
        )
