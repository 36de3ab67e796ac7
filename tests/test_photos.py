"""Faces in the wild through the pipeline: every selected face replaced, nothing else touched."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceanon.core import FaceAnonError, FaceDetector, FaceSelection

SHARED = Path(__file__).resolve().parents[2] / "shared"
FACES = SHARED / "faces"
YUNET = SHARED / "models" / "face_detection_yunet_2023mar_int8bq.onnx"
pytestmark = pytest.mark.skipif(
    not (FACES.is_dir() and YUNET.is_file()), reason=f"needs the shared photos in {FACES} and {YUNET}"
)
FAST = dict(steps=1, guidance=1.0, seed=4)


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(model_path=str(YUNET))


def _photo(name, max_side=800):
    image = Image.open(FACES / name).convert("RGB")
    image.thumbnail((max_side, max_side))
    return np.asarray(image)


def test_every_face_of_a_group_photo_is_replaced_and_nothing_else(pipeline, detector):
    photo = _photo("ageitgey__examples_two_people.jpg")
    out, mask, faces = pipeline.anonymize_faces(photo, detector, **FAST)
    assert len(faces) == 2
    assert out.shape == photo.shape and out.dtype == np.uint8 and mask.shape == photo.shape[:2]
    outside = mask == 0
    assert np.array_equal(out[outside], photo[outside])
    for face in faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        core = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))
        assert mask[core].min() > 0.99
        assert np.abs(out[core].astype(int) - photo[core].astype(int)).mean() > 5


def test_batching_does_not_change_faces(pipeline, detector):
    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    one_by_one, _, _ = pipeline.anonymize_faces(photo, detector, batch_size=1, **FAST)
    together, _, _ = pipeline.anonymize_faces(photo, detector, batch_size=8, **FAST)
    assert np.abs(one_by_one.astype(int) - together.astype(int)).max() <= 1


def test_photo_without_faces_comes_back_unchanged(pipeline, detector):
    name = next(line.split(",")[0] for line in (FACES / "manifest.csv").read_text().splitlines()[1:] if line.split(",")[2] == "0")
    photo = _photo(name)
    out, mask, faces = pipeline.anonymize_faces(photo, detector, **FAST)
    assert faces == [] and not mask.any() and np.array_equal(out, photo)


def test_selection_and_mask_limit_the_faces(pipeline, detector):
    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    _, _, largest = pipeline.anonymize_faces(photo, detector, selection=FaceSelection(max_faces=1), **FAST)
    assert len(largest) == 1
    left_half = np.zeros(photo.shape[:2], np.float32)
    left_half[:, : photo.shape[1] // 2] = 1
    out, mask, faces = pipeline.anonymize_faces(photo, detector, mask=left_half, **FAST)
    assert len(faces) == 1 and faces[0].center[0] < photo.shape[1] / 2
    assert np.array_equal(out[:, photo.shape[1] * 3 // 4 :], photo[:, photo.shape[1] * 3 // 4 :])


def test_swap_puts_the_source_face_on_each_target(pipeline, detector):
    source = _photo("ageitgey__examples_obama.jpg")
    target = _photo("ageitgey__examples_two_people.jpg", 600)
    out, mask, faces = pipeline.swap_faces(source, target, detector, **FAST)
    assert len(faces) == 2 and np.array_equal(out[mask == 0], target[mask == 0])
    empty = np.full((200, 200, 3), 127, np.uint8)
    with pytest.raises(FaceAnonError, match="source: no face found"):
        pipeline.swap_faces(empty, target, detector, **FAST)


def test_anonymize_needs_a_positive_degree(pipeline, detector):
    with pytest.raises(FaceAnonError, match="degree"):
        pipeline.anonymize_faces(np.zeros((64, 64, 3), np.uint8), detector, degree=0)
