# SPDX-License-Identifier: AGPL-3.0-or-later
"""Locating the face model files and downloading them on request, without touching the internet."""

import dataclasses
import hashlib
import http.server
import threading
import time

import pytest

from faceanon.core.errors import ModelFileError
from faceanon.core.faces import (
    MODEL_FILES,
    MODELS_DIR_ENV,
    ModelDownloadError,
    ModelFileMissingError,
    default_models_dir,
    download_detector,
    download_recognizer,
    find_model_file,
    resolve_detector_path,
    resolve_recognizer_path,
)
from faceanon.core.model_catalog import CATALOG
from faceanon.core.model_records import WebFile

CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, so connecting is refused


def _with_url(monkeypatch, role, url, **changes):
    """Give the catalog record of ``role`` a single direct-URL fallback."""
    spec = CATALOG[MODEL_FILES[role].key]
    changed = dataclasses.replace(spec, fallbacks=(WebFile(url),), **changes)
    monkeypatch.setitem(CATALOG, spec.key, changed)
    return changed


@pytest.fixture
def offline(monkeypatch):
    """Point every source at a closed local port."""
    for role, spec in MODEL_FILES.items():
        _with_url(monkeypatch, role, f"{CLOSED_PORT}/{spec.file_name}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", CLOSED_PORT)


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
    spec = CATALOG[MODEL_FILES["detector"].key]
    for part in (spec.file_name, str(tmp_path / "detectors"), f"{CLOSED_PORT}/{spec.source.repo}/resolve/main/",
                 spec.fallbacks[0].url):
        assert part in message
    assert not (tmp_path / "detectors").exists()


def test_download_falls_back_to_the_direct_url(tmp_path, monkeypatch, offline):
    payload = b"onnx bytes " * 1000

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
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{MODEL_FILES['recognizer'].file_name}"
        spec = _with_url(monkeypatch, "recognizer", url, sha256=hashlib.sha256(payload).hexdigest())
        path = download_recognizer(tmp_path, progress=True)
    finally:
        server.shutdown()
        server.server_close()
    assert path == tmp_path / spec.file_name and path.read_bytes() == payload
    assert sorted(p.name for p in tmp_path.iterdir()) == [spec.file_name]


def test_existing_file_is_not_downloaded_again(tmp_path, offline, monkeypatch):
    spec = CATALOG[MODEL_FILES["detector"].key]
    monkeypatch.setitem(CATALOG, spec.key, dataclasses.replace(spec, sha256=hashlib.sha256(b"already here").hexdigest()))
    target = tmp_path / spec.file_name
    target.write_bytes(b"already here")
    assert download_detector(tmp_path) == target


def test_a_corrupt_file_is_reported_and_never_overwritten(tmp_path, offline):
    target = tmp_path / MODEL_FILES["detector"].file_name
    target.write_bytes(b"not the published detector")
    with pytest.raises(ModelFileError, match="corrupt: its sha256 differs") as caught:
        download_detector(tmp_path)
    assert str(target) in str(caught.value) and "never overwritten" in str(caught.value)
    assert target.read_bytes() == b"not the published detector"


def test_a_download_with_the_wrong_sha256_is_deleted(tmp_path, monkeypatch, offline):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"tampered bytes")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _with_url(monkeypatch, "recognizer", f"http://127.0.0.1:{server.server_address[1]}/sface.onnx")
        with pytest.raises(ModelDownloadError, match="sha256 differs") as caught:
            download_recognizer(tmp_path, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert str(tmp_path / MODEL_FILES["recognizer"].file_name) in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary copy is left
