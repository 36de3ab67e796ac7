# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fetching missing model files, only when asked: with progress bars, checked by sha256 where pinned.

Nothing that exists is overwritten: a file is written under a temporary name in its folder and moved into
place once checked. Every server is probed first, all at once, for about a second, so an offline machine
fails at once with every file, where it goes and where to get it by hand.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

from ..errors import ModelFileError
from .hub import CONNECT_TIMEOUT_S, check_reachable, hub_endpoint
from .model_locate import CORRUPT, MISSING, REFUSED, FileStatus, file_problem, status
from .model_messages import download_error, missing_error
from .model_records import HubFile, ModelFile, PackageFile

READ_TIMEOUT_S = 30.0
_CORRUPT_HINT = "Move the files marked corrupt away (they are never overwritten), then download again."


def download(
    records: Sequence[ModelFile],
    roots: Sequence[os.PathLike | str],
    *,
    model_name: Optional[str] = None,
    progress: bool = True,
    timeout: float = CONNECT_TIMEOUT_S,
) -> list[Path]:
    """Fetch those of ``records`` that are missing under ``roots``, into the first root. Returns the paths written.

    Raises ModelFileMissingError for files that are there but corrupt, and ModelDownloadError naming every
    file that no source could deliver.
    """
    return fetch([status(record, roots, model_name) for record in records], progress=progress, timeout=timeout)


def fetch(statuses: Sequence[FileStatus], *, progress: bool = True, timeout: float = CONNECT_TIMEOUT_S) -> list[Path]:
    """``download`` for files whose status is already known (each missing one goes to its ``path``)."""
    corrupt = [s for s in statuses if s.state == CORRUPT]
    if corrupt:
        raise missing_error(corrupt, _CORRUPT_HINT)
    todo = [s for s in statuses if s.state in (MISSING, REFUSED)]
    if not todo:
        return []
    endpoint = hub_endpoint()
    unreachable = _unreachable_servers([s.record for s in todo], endpoint, timeout)
    written, failed, reasons = [], [], []
    for planned in todo:
        path, why = _fetch(planned, endpoint, unreachable, progress)
        if path is not None:
            written.append(path)
        else:
            failed.append(planned)
            reasons += why
    if failed:
        raise download_error(failed, reasons)
    return written


def _fetch(planned: FileStatus, endpoint: str, unreachable: dict[str, str], progress: bool):
    """Try each source in turn; (path, []) on success, else (None, why each source failed)."""
    why = []
    for source in planned.record.sources:
        if isinstance(source, PackageFile):
            why.append(f"{source.distribution} {source.version} is not installed")
            continue
        url = source.url(endpoint) if isinstance(source, HubFile) else source.url
        server = _server(url)
        if server in unreachable:
            why.append(unreachable[server])
            continue
        try:
            return _fetch_one(planned, source, url, endpoint, progress), []
        except Exception as error:  # network, disk and check failures all end in the same report
            why.append(f"{url}: {error}")
    return None, why


def _fetch_one(planned: FileStatus, source, url: str, endpoint: str, progress: bool) -> Path:
    target = planned.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, HubFile):
        written = Path(_from_hub(source, target, endpoint, progress))
        _check_download(planned.record, written, written.name)  # nothing was there before: it is ours to delete
        return written
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            _from_url(url, out, target.name, progress)
        _check_download(planned.record, Path(partial), target.name)
        if target.exists():
            raise ModelFileError(f"{target} appeared during the download and was kept")
        os.replace(partial, target)
        return target
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def _check_download(record: ModelFile, path: Path, name: str) -> None:
    problem = file_problem(record, path, path.stat().st_size, name=name)
    if problem:
        path.unlink()
        raise ModelFileError(f"the downloaded file is {problem}; it was deleted")


def _from_hub(source: HubFile, target: Path, endpoint: str, progress: bool) -> str:
    """huggingface_hub's own download (resume, mirrors, tokens), into the folder the target's repo path implies."""
    from huggingface_hub import hf_hub_download

    posix_target = target.as_posix()
    if not posix_target.endswith("/" + source.path):
        raise ModelFileError(f"{target} does not end with the repo path {source.path}")
    local_dir = posix_target[: -len(source.path) - 1]
    kwargs = {} if progress else {"tqdm_class": _silent_tqdm()}
    return hf_hub_download(source.repo, source.path, revision=source.revision, local_dir=local_dir,
                           endpoint=endpoint, **kwargs)


def _from_url(url: str, out, name: str, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=READ_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = _progress_bar(total, name) if progress else None
        try:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def _server(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def _unreachable_servers(records: Sequence[ModelFile], endpoint: str, timeout: float) -> dict[str, str]:
    """Probe every server the records' sources need, in parallel: {server: why it cannot be used}."""
    urls = {}
    for record in records:
        for source in record.sources:
            if not isinstance(source, PackageFile):
                url = source.url(endpoint) if isinstance(source, HubFile) else source.url
                urls.setdefault(_server(url), url)
    if not urls:
        return {}

    def probe(url: str) -> Optional[str]:
        try:
            check_reachable(url, timeout)
        except OSError as error:
            return "HF_HUB_OFFLINE is set" if "HF_HUB_OFFLINE" in str(error) else f"cannot reach {_server(url)} ({error})"
        return None

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        results = dict(zip(urls, pool.map(probe, urls.values())))
    return {server: why for server, why in results.items() if why is not None}


def _progress_bar(total: Optional[int], name: str):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name)


def _silent_tqdm():
    from tqdm import tqdm

    class SilentTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return SilentTqdm

