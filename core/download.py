# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fetch the model weights from Hugging Face, only when the user asks for it.

Missing files only: nothing that already exists is overwritten. When the hub cannot be reached the
error comes within about a second and lists every file to fetch by hand and where to put it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ModelFileError
from .hub import check_reachable, hub_endpoint
from .model_files import ALL_COMPONENTS, Component


@dataclass(frozen=True)
class PlannedFile:
    component: Component
    repo_file: str  # path inside the Hugging Face repo
    target: str  # where it goes on disk

    @property
    def local_dir(self) -> str:
        """The folder that, joined with the repo path, gives the target (hf_hub_download's local_dir)."""
        return self.target[: -len(self.repo_file)]

    def describe(self) -> str:
        return f"{self.target}  <-  https://huggingface.co/{self.component.repo}/blob/main/{self.repo_file}"


def planned_files(model_dir: str, components=ALL_COMPONENTS) -> list[PlannedFile]:
    """Every file of the official layout: config plus the full-precision safetensors of each component."""
    files = []
    for component in components:
        for name in (component.config_name, component.weight_names[0]):
            files.append(PlannedFile(component, component.repo_file(name), os.path.join(model_dir, component.folder, name)))
    return files


def missing_files(model_dir: str, components=ALL_COMPONENTS) -> list[PlannedFile]:
    missing = []
    for planned in planned_files(model_dir, components):
        folder = os.path.dirname(planned.target)
        present = os.path.isfile(planned.target) or (
            planned.repo_file.endswith(".safetensors")
            and any(os.path.isfile(os.path.join(folder, n)) for n in planned.component.weight_names)
        )
        if not present:
            missing.append(planned)
    return missing


def manual_instructions(files: list[PlannedFile]) -> str:
    return "Fetch these files by hand (target  <-  source):\n" + "\n".join(f"  {f.describe()}" for f in files)


def download_models(model_dir: str, components=ALL_COMPONENTS) -> list[str]:
    """Download the missing files of ``components`` into ``model_dir`` with progress bars.

    Returns the paths written. Raises ModelFileError naming every file when the hub is unreachable.
    """
    todo = missing_files(model_dir, components)
    if not todo:
        return []
    try:
        check_reachable(hub_endpoint())
    except OSError as e:
        raise ModelFileError(f"Cannot reach Hugging Face ({e}). {manual_instructions(todo)}") from None
    from huggingface_hub import hf_hub_download

    written = []
    for planned in todo:
        try:
            written.append(hf_hub_download(planned.component.repo, planned.repo_file, local_dir=planned.local_dir))
        except Exception as e:  # network, auth and disk errors all end the same way for the user
            raise ModelFileError(
                f"Download of {planned.repo_file} from {planned.component.repo!r} failed ({e}). "
                f"{manual_instructions(todo)}"
            ) from None
    return written
