# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bad arguments to the Python API and the nodes are FaceAnonErrors that name the input, checked the same
way at every entry point, before any work: pixel values, seeds, devices, model files, face lists."""

import json
import shutil

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL, YUNET, shared_file
from faceanon.core import FaceAnonError, FaceAnonPipeline, ModelFileError, StaticFaces, redact_faces
from faceanon.core.faces import Face
from faceanon.core.private_save import save_private_images
from faceanon.core.reference import Reference
from faceanon.core.seeds import MAX_SEED, check_seed, offset_seed
from PIL import Image

SMALL = dict(steps=1, guidance=1.0)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    image = Image.open(shared_file("faces", "ageitgey__examples_two_people.jpg")).convert("RGB")
    image.thumbnail((400, 400))
    return np.asarray(image)


@pytest.fixture(scope="module")
def detector():
    from faceanon.core import FaceDetector

    return FaceDetector(YUNET)  # the test model that ships in tests/fixtures


def _two_faces(photo) -> StaticFaces:
    height, width = photo.shape[:2]
    return StaticFaces([(width * 0.1, height * 0.2, width * 0.4, height * 0.7),
                        (width * 0.6, height * 0.2, width * 0.9, height * 0.7)])


# -- pixel values: a float photo in 0..255 ------------------------------------------------------------
def test_float_photo_in_0_255_is_refused_by_every_entry_point(photo, detector, pipeline):
    from faceanon.nodes.conversions import check_image

    wrong = photo.astype(np.float32)  # np.asarray(img, np.float32): 0..255 floats
    calls = {
        "detect": lambda: detector.detect(wrong),
        "redact_faces": lambda: redact_faces(wrong, detector.detect(photo)),
        "anonymize_faces": lambda: pipeline.anonymize_faces(wrong, detector, **SMALL),
        "swap_faces (image)": lambda: pipeline.swap_faces(photo, wrong, detector, **SMALL),
        "swap_faces (source)": lambda: pipeline.swap_faces(wrong, photo, detector, **SMALL),
        "pipe()": lambda: pipeline(wrong[:64, :64], **SMALL),
        "pipe() batch": lambda: pipeline(wrong[None, :64, :64], **SMALL),
        "node IMAGE": lambda: check_image(torch.from_numpy(wrong)[None], "image"),
    }
    for entry, call in calls.items():
        with pytest.raises(FaceAnonError) as raised:
            call()
        message = str(raised.value)
        assert "0..1" in message and "255" in message, (entry, message)
    with pytest.raises(FaceAnonError, match="source"):
        pipeline.swap_faces(wrong, photo, detector, **SMALL)


def test_float_photo_in_0_1_is_the_same_photo_as_uint8(photo, detector):
    as_uint8 = [face.box for face in detector.detect(photo)]
    as_float = [face.box for face in detector.detect(photo.astype(np.float32) / 255)]
    assert len(as_uint8) == 2 and np.allclose(as_uint8, as_float, atol=1)
    redacted, mask = redact_faces(photo.astype(np.float32) / 255, detector.detect(photo))
    assert redacted.dtype == np.float32 and mask.max() == 1


def test_nan_pixels_and_other_dtypes_are_refused():
    from faceanon.core.faces.image_io import as_array

    image = np.zeros((8, 8, 3), np.float32)
    image[0, 0, 0] = np.nan
    with pytest.raises(FaceAnonError, match="photo: floating-point pixel values must lie in 0..1"):
        as_array(image, "photo")
    with pytest.raises(FaceAnonError, match="photo: expected uint8 pixels"):
        as_array(np.zeros((8, 8, 3), np.int64), "photo")


def test_empty_image_and_missing_faces_are_face_anon_errors(detector, photo):
    for empty in (np.zeros((0, 0, 3), np.uint8), np.zeros((0, 5, 3), np.uint8)):
        with pytest.raises(FaceAnonError, match="image: the image is empty"):
            detector.detect(empty)
    for faces, expected in ((None, "got NoneType"), ("face", "got str"), ([object()], "got object")):
        with pytest.raises(FaceAnonError, match=f"faces: expected .*{expected}"):
            redact_faces(photo, faces)
    assert np.array_equal(redact_faces(photo, [])[0], photo)


# -- seeds -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1.5, "7", True, -1, MAX_SEED + 1, None])
def test_seeds_must_be_integers_in_range(pipeline, face_a, seed):
    with pytest.raises(FaceAnonError, match="seed must be an integer"):
        check_seed(seed)
    with pytest.raises(FaceAnonError, match="seed must be an integer"):
        pipeline(face_a, seed=seed, **SMALL)
    with pytest.raises(FaceAnonError, match="seed must be an integer"):
        pipeline.anonymize_faces(np.asarray(face_a), StaticFaces([(100, 100, 400, 400)]), seed=seed, **SMALL)


def test_the_largest_seed_generates_every_face_instead_of_failing_closed(pipeline, photo):
    from faceanon.core.photos import process_photos

    assert offset_seed(MAX_SEED, 1) == 0 and check_seed(np.int64(7)) == 7
    (result,) = process_photos(pipeline, [photo], _two_faces(photo), degree=1.25, seed=MAX_SEED,
                               scheduler="ddpm", **SMALL)
    assert result.actions == ["generated", "generated"] and result.seeds == [MAX_SEED, 0]


# -- devices -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["meta", "xpu", "cuda", "cuda:7", "mps", "gpu"])
def test_unavailable_devices_are_refused_with_a_clear_error(device):
    from faceanon.core.devices import check_device

    backend = torch.backends.mps if device == "mps" else getattr(torch, device.split(":")[0], None)
    if device not in ("meta", "gpu") and backend is not None and backend.is_available() \
            and (":" not in device or backend.device_count() > 7):
        pytest.skip(f"this machine has {device}")
    with pytest.raises(FaceAnonError, match=f"device '{device}'"):
        check_device(device)
    with pytest.raises(FaceAnonError, match=f"device '{device}'"):
        FaceAnonPipeline.from_pretrained(TINY_MODEL, device=device)


# -- model files -------------------------------------------------------------------------------------
@pytest.mark.parametrize("component, change", [
    ("unet", {"block_out_channels": [8, 24]}),
    ("unet", {"norm_num_groups": 3}),
    ("vae", {"latent_channels": 8}),
    ("image_encoder", {"hidden_size": 16}),
])
def test_a_config_that_does_not_fit_its_weights_names_the_file(tmp_path, component, change):
    model = tmp_path / "model"
    shutil.copytree(TINY_MODEL, model)
    config = model / component / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), **change}))
    with pytest.raises(ModelFileError) as raised:
        FaceAnonPipeline.from_pretrained(str(model), device="cpu")
    assert str(config) in str(raised.value)


# -- messages that used to be wrong --------------------------------------------------------------------
def test_a_two_image_source_for_one_driving_image_says_so():
    two = Reference(torch.zeros(2, 4, 8, 8), torch.ones(2, 4, 8, 8), torch.zeros(2, 1, 8))
    with pytest.raises(FaceAnonError) as raised:
        two.expand(1, "source")
    assert "expected 1 image to match" in str(raised.value) and "1 or 1" not in str(raised.value)
    assert two.expand(2) is two


@pytest.mark.parametrize("prefix", ["evil\n", "evil\r", "../x", "a/b", "", "x" * 65, " lead"])
def test_private_save_refuses_every_unsafe_prefix(tmp_path, prefix):
    with pytest.raises(FaceAnonError, match="filename_prefix"):
        save_private_images([np.zeros((8, 8, 3), np.uint8)], tmp_path, prefix=prefix)
    assert not any(tmp_path.iterdir())
    assert save_private_images([np.zeros((8, 8, 3), np.uint8)], tmp_path, prefix="ok-name_1")[0].name == \
        "ok-name_1_00001.png"


def test_face_lists_take_single_faces_too(photo):
    face = Face((10, 10, 60, 60), 0.9, [[25, 30], [45, 30], [35, 40], [27, 50], [43, 50]])
    assert np.array_equal(redact_faces(photo, face)[1], redact_faces(photo, [face])[1])
