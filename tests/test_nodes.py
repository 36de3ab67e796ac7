# SPDX-License-Identifier: AGPL-3.0-or-later
"""The node classes without ComfyUI: declarations, conversions, validation, and equality with core."""

import shutil
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

import faceanon
from faceanon.core import FaceAnonError, ModelFileError
from faceanon.nodes.comfy_encoders import check_clip_vision
from faceanon.nodes.loader import FaceAnonModelLoader
from faceanon.nodes.one_click import FaceAnonAnonymize, FaceAnonSwap
from faceanon.nodes.reference_nodes import FaceAnonBlend, FaceAnonEncodeReference
from faceanon.nodes.sampler import FaceAnonSampler

SCALE = 0.18215


@pytest.fixture
def models_root(tmp_path, monkeypatch):
    shutil.copytree(TINY_MODEL, tmp_path / "face-anon-simple")
    monkeypatch.setenv("FACEANON_MODELS", str(tmp_path))
    return tmp_path


@pytest.fixture
def model(models_root):
    return FaceAnonModelLoader().load("face-anon-simple", "fp32", False)[0]


def _image(pil):
    return torch.from_numpy(np.asarray(pil).astype(np.float32) / 255)[None]


def test_every_node_is_declared_for_comfyui():
    assert faceanon.NODE_CLASS_MAPPINGS.keys() == faceanon.NODE_DISPLAY_NAME_MAPPINGS.keys()
    for node_id, cls in faceanon.NODE_CLASS_MAPPINGS.items():
        assert node_id.startswith("FaceAnon") and cls.CATEGORY == "FaceAnon"
        assert len(cls.DESCRIPTION) > 40 and callable(getattr(cls(), cls.FUNCTION))
        assert len(cls.RETURN_TYPES) == len(cls.RETURN_NAMES) == len(cls.OUTPUT_TOOLTIPS)
        for section in cls.INPUT_TYPES().values():
            for name, (_, *options) in section.items():
                assert options and options[0].get("tooltip"), f"{node_id}.{name} has no tooltip"


def test_loader_lists_model_folders(models_root):
    (models_root / "not-a-model").mkdir()
    names = FaceAnonModelLoader.INPUT_TYPES()["required"]["model_name"][0]
    assert names == ["face-anon-simple"]


def test_loader_missing_folder_is_readable(models_root):
    with pytest.raises(ModelFileError, match="does not exist. Turn on 'download'"):
        FaceAnonModelLoader().load("other-model", "auto", False)


def test_loader_download_offline_fails_fast_with_paths(models_root, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    shutil.rmtree(models_root / "face-anon-simple" / "unet")
    start = time.monotonic()
    with pytest.raises(ModelFileError) as error:
        FaceAnonModelLoader().load("face-anon-simple", "auto", True)
    assert time.monotonic() - start < 1.5
    assert str(models_root / "face-anon-simple" / "unet" / "config.json") in str(error.value)
    assert "hkung/face-anon-simple/resolve/main/unet/diffusion_pytorch_model.safetensors" in str(error.value)


def _chain(model, driving, source=None, degree=1.25, seed=3, steps=3, latent=None, denoise=1.0):
    drv = FaceAnonEncodeReference().encode(model, driving, 64, 64)[0]
    src = drv if source is None else FaceAnonEncodeReference().encode(model, source, 64, 64)[0]
    blended = FaceAnonBlend().blend(model, src, degree)[0]
    return FaceAnonSampler().sample(model, blended, drv, seed, steps, 4.0, "ddpm", denoise, latent)


def test_sampler_outputs_raw_latents_and_images_equal_to_core(model, face_a, pipeline):
    latent, image = _chain(model, _image(face_a))
    expected = pipeline(face_a, degree=1.25, seed=3, steps=3, width=64, height=64)
    assert image.shape == (1, 64, 64, 3) and image.dtype == torch.float32
    np.testing.assert_allclose(image.numpy(), expected, atol=1e-5)
    decoded = model.decode(latent["samples"] * SCALE)
    np.testing.assert_allclose(decoded.permute(0, 2, 3, 1).numpy(), image.numpy(), atol=1e-6)


def test_swap_chain_equals_core(model, face_a, face_b, pipeline):
    _, image = _chain(model, _image(face_b), source=_image(face_a), degree=0.0, seed=9)
    expected = pipeline(face_b, source=face_a, degree=0.0, seed=9, steps=3, width=64, height=64)
    np.testing.assert_allclose(image.numpy(), expected, atol=1e-5)


def test_denoise_zero_returns_the_latent_and_keeps_its_keys(model, face_a):
    raw = torch.randn(1, 4, 8, 8)
    latent, _ = _chain(model, _image(face_a), latent={"samples": raw, "batch_index": [0]}, denoise=0.0)
    torch.testing.assert_close(latent["samples"], raw, rtol=0, atol=1e-6)
    assert latent["batch_index"] == [0]


def test_noise_mask_keeps_latents_outside(model, face_a):
    raw = torch.randn(1, 4, 8, 8)
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    latent, _ = _chain(model, _image(face_a), latent={"samples": raw, "noise_mask": mask}, denoise=0.7)
    outside = torch.ones(1, 4, 8, 8, dtype=torch.bool)
    outside[..., 1:7, 1:7] = False  # bilinear resize makes a one-latent-pixel soft border
    torch.testing.assert_close(latent["samples"][outside], raw[outside], rtol=0, atol=1e-6)
    assert (latent["samples"][..., 3:5, 3:5] - raw[..., 3:5, 3:5]).abs().max() > 1e-3
    assert "noise_mask" in latent


def test_denoise_below_one_needs_a_latent(model, face_a):
    with pytest.raises(FaceAnonError, match="denoise"):
        _chain(model, _image(face_a), denoise=0.5)


def test_one_click_nodes_equal_core(model, face_a, face_b, pipeline):
    anonymized = FaceAnonAnonymize().anonymize(model, _image(face_a), 1.25, 5, 2, 4.0)[0]
    np.testing.assert_allclose(anonymized.numpy(), pipeline(_image(face_a), seed=5, steps=2), atol=1e-5)
    swapped = FaceAnonSwap().swap(model, _image(face_a), _image(face_b), 6, 2, 4.0)[0]
    expected = pipeline(_image(face_b), source=_image(face_a), degree=0, seed=6, steps=2)
    np.testing.assert_allclose(swapped.numpy(), expected, atol=1e-5)
    assert anonymized.shape == swapped.shape == (1, 512, 512, 3)


def test_bad_image_input_is_named(model):
    with pytest.raises(FaceAnonError, match=r"image: expected an IMAGE tensor \[B,H,W,3\]"):
        FaceAnonEncodeReference().encode(model, torch.zeros(1, 3, 64, 64), 64, 64)


def _fake_clip_vision(width, layers, patch=14, image_size=224):
    tower = SimpleNamespace(
        embeddings=SimpleNamespace(patch_embedding=SimpleNamespace(weight=torch.zeros(width, 3, patch, patch))),
        encoder=SimpleNamespace(layers=[None] * layers),
    )
    return SimpleNamespace(model=SimpleNamespace(vision_model=tower), image_size=image_size)


def test_clip_vision_must_be_vit_l14():
    check_clip_vision(_fake_clip_vision(1024, 24), 1024)
    with pytest.raises(FaceAnonError, match="ViT-H/14 also gives 1024-d image embeddings"):
        check_clip_vision(_fake_clip_vision(1280, 32), 1024)
    with pytest.raises(FaceAnonError, match="336 px"):
        check_clip_vision(_fake_clip_vision(1024, 24, image_size=336), 1024)
    with pytest.raises(FaceAnonError, match="CLIP_VISION"):
        check_clip_vision(object(), 1024)
