# SPDX-License-Identifier: AGPL-3.0-or-later
"""Downloading the missing model files, after saying how much there is to fetch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.download import download_models
from ..core.errors import ModelFileError
from ..core.faces.model_files import download_model_file, model_dir
from ..core.hub import hub_offline
from .model_paths import (
    GROUPS,
    describe_missing,
    diffusion_dir,
    model_file_statuses,
)
from .model_sizes import human_size


def fetch_missing(root: Path, groups: Sequence[str] = GROUPS, announce=print) -> None:
    """Download the missing files of ``groups`` into ``root``.

    Raises ModelFileError naming every file that could not be fetched and where to get it by hand.
    With HF_HUB_OFFLINE set nothing touches the network.
    """
    missing = [s for s in model_file_statuses(root, groups) if not s.present]
    if not missing:
        announce(f"All model files are present in {root}.")
        return
    total = sum(s.size for s in missing)
    announce(f"Downloading {len(missing)} model files, about {human_size(total)}, into {root}:")
    for status in missing:
        announce(f"  {status.target}  (~{human_size(status.size)})")
    if hub_offline():
        raise ModelFileError(f"HF_HUB_OFFLINE is set, so nothing was downloaded. Fetch these files by hand "
                             f"(target  <-  source):\n{describe_missing(missing)}")
    failures = []
    if any(s.group == "model" for s in missing):
        try:
            download_models(str(diffusion_dir(root)))
        except ModelFileError as error:
            failures.append(str(error))
    for role in sorted({s.group for s in missing} - {"model"}):
        try:
            download_model_file(role, model_dir(role, root), progress=True)
        except ModelFileError as error:
            failures.append(str(error))
    if failures:
        raise ModelFileError("Download failed.\n" + "\n".join(failures))
