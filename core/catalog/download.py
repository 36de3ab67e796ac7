# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fetch the diffusion model's weights from Hugging Face, only when the user asks for it.

Kept for ``faceanon.core.download.download_models(folder)``; the work is done by the model-file
catalog (`model_files.download`).
"""

from __future__ import annotations

import os
from pathlib import Path

from .model_files import DIFFUSION_COMPONENTS, diffusion_records, fetch, status_in_folder


def download_models(model_dir: str | os.PathLike, components=DIFFUSION_COMPONENTS) -> list[str]:
    """Download the missing files of ``components`` (folder names: ``unet``, ``vae``, ...) into the model
    folder ``model_dir``, with progress bars. Returns the paths written; nothing present is overwritten.

    Raises ModelFileError naming every file, where it goes and its direct link when the hub is unreachable.
    """
    statuses = [status_in_folder(r, Path(model_dir) / r.folder) for r in diffusion_records(components)]
    return [str(path) for path in fetch(statuses)]
