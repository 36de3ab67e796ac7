# SPDX-License-Identifier: AGPL-3.0-or-later
"""What to tell a person about model files: sizes, where each file goes, and where to get it."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ModelDownloadError, ModelFileMissingError
from .hub import hub_endpoint
from .model_locate import REFUSED, FileStatus
from .model_records import ModelFile

HINT = "Run `faceanon download`, or put the files at the paths shown."


def human_size(size: float) -> str:
    """Decimal units, as download sizes are usually given: 3.46 GB, 335 MB, 233 KB."""
    if size >= 1e9:
        return f"{size / 1e9:.2f} GB"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.0f} {unit}"
    return f"{int(size)} B"


def source_links(record: ModelFile, endpoint: str | None = None) -> list[str]:
    """Every place ``record`` can be fetched from, best first: direct download links, then local fallbacks."""
    endpoint = endpoint or hub_endpoint()
    return [source.describe(endpoint) for source in record.sources]


def file_line(status: FileStatus) -> str:
    """``  <path>  <-  <link>  or  <link>``, with what is wrong with a file that is there but unusable."""
    problem = f"  ({status.state}: {status.problem})" if status.problem else ""
    return f"  {status.path}{problem}  <-  {'  or  '.join(source_links(status.record))}"


def headline(statuses: Sequence[FileStatus]) -> str:
    """A short first line: which file, or how many and how big."""
    unusable = any(s.problem for s in statuses)
    if len(statuses) == 1:
        only = statuses[0]
        if only.state == REFUSED:
            return f"The {only.record.title} file {only.record.file_name} is missing; only pickled weights were found."
        return f"The {only.record.title} file {only.path.name} is {only.state}."
    size = human_size(sum(s.record.size for s in statuses))
    return f"{len(statuses)} model files are {'missing or unusable' if unusable else 'missing'}, about {size}."


def missing_error(statuses: Sequence[FileStatus], hint: str = HINT) -> ModelFileMissingError:
    return ModelFileMissingError(headline(statuses), [file_line(s) for s in statuses], hint)


def download_error(statuses: Sequence[FileStatus], reasons: Sequence[str]) -> ModelDownloadError:
    why = "; ".join(dict.fromkeys(reasons))
    count = "1 model file" if len(statuses) == 1 else f"{len(statuses)} model files"
    return ModelDownloadError(
        f"Could not download {count}.",
        [file_line(s) for s in statuses],
        f"Why: {why}. Fetch them by hand from the links shown and put them at the paths shown.",
    )
