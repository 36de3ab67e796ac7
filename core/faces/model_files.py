# SPDX-License-Identifier: AGPL-3.0-or-later
"""Where the face models live, and how to fetch them on request (never at import).

Files sit under a models directory (argument, else $FACEANON_MODELS, else ~/.cache/faceanon); a
ComfyUI front end passes `<ComfyUI models>/face_anon`. Each kind of file has its own subfolder.
"""

from __future__ import annotations

import os
import urllib.parse
import urllib.request
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
    hub_repo: str
    url: str

    def hub_url(self, endpoint: str = PUBLIC_HUB) -> str:
        return f"{endpoint.rstrip('/')}/{self.hub_repo}/resolve/main/{self.file_name}"


_ZOO = "https://github.com/opencv/opencv_zoo/raw/main/models"
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

    Tries the Hugging Face repo (on `hub_endpoint`, default $HF_ENDPOINT or huggingface.co), then the
    OpenCV Zoo URL. A source whose server does not answer within `timeout` seconds is skipped, so an
    offline machine fails at once.
    """
    spec = _model_file(role)
    hub_endpoint = hub_endpoint or HUB_ENDPOINT or hub.hub_endpoint()
    folder = Path(dest_dir).expanduser() if dest_dir is not None else model_dir(role)
    target = folder / spec.file_name
    if target.is_file():
        return target
    failures = []
    for source, fetch in (
        (spec.hub_url(hub_endpoint), lambda: _fetch_from_hub(spec, folder, progress, hub_endpoint)),
        (spec.url, lambda: _fetch_from_url(spec.url, target, progress)),
    ):
        try:
            check_reachable(source, timeout)
            folder.mkdir(parents=True, exist_ok=True)
            fetch()
            if target.is_file() and target.stat().st_size > 0:
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
    return (
        f"Download {spec.file_name} by hand from the Hugging Face repo {spec.hub_repo} "
        f"({spec.hub_url()}) or from OpenCV Zoo ({spec.url}) and put it in {folder}"
    )


def _fetch_from_hub(spec: ModelFile, folder: Path, progress: bool, endpoint: str) -> None:
    from huggingface_hub import hf_hub_download

    kwargs = {} if progress else {"tqdm_class": _silent_tqdm()}
    hf_hub_download(spec.hub_repo, spec.file_name, local_dir=folder, endpoint=endpoint, **kwargs)


def _fetch_from_url(url: str, target: Path, progress: bool) -> None:
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
