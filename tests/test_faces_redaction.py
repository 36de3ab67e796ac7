# SPDX-License-Identifier: AGPL-3.0-or-later
"""Blur, pixelate, black and fill redaction through the aligned crop."""

import numpy as np
import pytest
from conftest import YUNET, shared_file
from PIL import Image

from faceanon.core.errors import FaceAnonError
from faceanon.core.faces import REDACTION_METHODS, Face, FaceDetector, redact_crop, redact_faces
from faceanon.core.faces.templates import DFL_TEMPLATE_5

GROUP = "ageitgey__examples_two_people.jpg"


def face_at(scale: float, x: float, y: float) -> Face:
    landmarks = DFL_TEMPLATE_5 * scale + [x, y]
    return Face(box=(*landmarks.min(axis=0), *landmarks.max(axis=0)), score=1.0, landmarks=landmarks)


@pytest.fixture
def textured(rng) -> np.ndarray:
    return rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)


@pytest.mark.parametrize("method", REDACTION_METHODS)
def test_each_method_changes_the_face_and_nothing_outside_the_mask(textured, method):
    face = face_at(90, 110, 80)
    result, mask = redact_faces(textured, [face], method=method, size=256)
    outside, core = mask == 0, mask == 1
    assert np.array_equal(result[outside], textured[outside])
    assert np.abs(result[core].astype(float) - textured[core]).mean() > 30
    for x, y in face.landmarks:
        assert mask[round(y), round(x)] == 1.0


def test_black_and_fill_are_uniform_over_the_face(textured):
    face = face_at(90, 110, 80)
    black, mask = redact_faces(textured, [face], method="black", size=256)
    assert np.all(black[mask == 1] == 0)
    filled, mask = redact_faces(textured, [face], method="fill", size=256)
    core = filled[mask == 1].astype(float)
    assert core.std(axis=0).max() < 1.0 and np.abs(core.mean(axis=0) - 127.5).max() < 8


def detail(pixels: np.ndarray) -> float:
    """Mean absolute difference between horizontally adjacent pixels."""
    return float(np.abs(np.diff(pixels.astype(float), axis=1)).mean())


@pytest.mark.parametrize("method", ["blur", "pixelate"])
def test_blur_and_pixelate_remove_fine_detail(textured, method):
    face = face_at(90, 110, 80)
    result, mask = redact_faces(textured, [face], method=method, size=256)
    x, y = (round(v) for v in face.landmarks[2])
    window = (slice(y - 20, y + 20), slice(x - 20, x + 20))  # around the nose, inside the core
    assert np.all(mask[window] == 1)
    assert detail(result[window]) < 0.25 * detail(textured[window])


def test_pixelate_makes_blocks_of_the_crop(textured):
    crop = redact_crop(textured[:128, :128], "pixelate", pixel_size=16)
    blocks = crop.reshape(8, 16, 8, 16, 3)
    assert np.all(blocks == blocks[:, :1, :, :1])


def test_no_faces_returns_an_unchanged_copy(textured):
    result, mask = redact_faces(textured, [], method="blur")
    assert np.array_equal(result, textured) and result is not textured and not mask.any()


def test_unknown_method_is_rejected(textured):
    with pytest.raises(FaceAnonError, match="'smudge'"):
        redact_faces(textured, [face_at(90, 110, 80)], method="smudge")


def test_redacting_a_real_group_photo():
    image = Image.open(shared_file("faces", GROUP)).convert("RGB")
    faces = FaceDetector(YUNET, refine_landmarks=False).detect(image)
    assert len(faces) == 2
    result, mask = redact_faces(image, faces, method="pixelate", framing="ffhq")
    original = np.asarray(image)
    assert np.array_equal(result[mask == 0], original[mask == 0])
    for face in faces:
        x, y = (round(v) for v in face.landmarks[2])
        assert mask[y, x] == 1.0
