# SPDX-License-Identifier: AGPL-3.0-or-later
"""Downloading the missing model files, after saying how much there is to fetch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.model_files import GROUPS, MISSING, REFUSED, fetch, human_size
from .model_paths import model_file_statuses


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
