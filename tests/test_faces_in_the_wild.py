# SPDX-License-Identifier: AGPL-3.0-or-later
"""End-to-end geometry on real photos: recall, identity round trip, borders, huge and mixed inputs."""

import csv

import numpy as np
import pytest
from conftest import YUNET, shared_file
from PIL import Image

from faceanon.core import FaceDetector
from faceanon.core.faces import align_faces, paste_faces
from faceanon.core.photos import process_photos



@pytest.fixture(scope="module")
def detector():
    return FaceDetector(model_path=str(YUNET))


def _photo(name, max_side=None):
    image = Image.open(shared_file("faces", name)).convert("RGB")
    if max_side:
        image.thumbnail((max_side, max_side))
    return np.asarray(image)


def _manifest():
    with open(shared_file("faces", "manifest.csv"), newline="") as f:
        return list(csv.DictReader(f))


def test_recall_on_single_face_photos():
    detector = FaceDetector(model_path=str(YUNET), refine_landmarks=False)  # refinement moves, never adds, faces
    singles = [row["file"] for row in _manifest() if row["n_faces"] == "1"]
    found = sum(bool(detector.detect(_photo(name, 1280))) for name in singles)
    assert len(singles) >= 20
    assert found / len(singles) >= 0.95


def _round_trip(image, detector):
    aligned = align_faces(image, detector.detect(image))
    return aligned, *paste_faces(image, aligned, [face.image for face in aligned])


def test_identity_generator_reproduces_the_face_and_keeps_the_rest(detector):
    photo = _photo("ageitgey__examples_obama.jpg").astype(np.float32) / 255
    aligned, out, mask = _round_trip(photo, detector)
    assert len(aligned) == 1 and out.shape == photo.shape
    assert np.array_equal(out[mask == 0], photo[mask == 0])
    inside = mask > 0.5
    assert np.abs(out[inside] - photo[inside]).mean() < 0.01


def test_face_at_the_image_border(detector):
    photo = _photo("ageitgey__examples_obama.jpg", 800)
    face = detector.detect(photo)[0]
    x0, _, x1, _ = (int(v) for v in face.box)
    cut = photo[:, (x0 + x1) // 2 - 40 :]  # the face's left half is outside the frame
    aligned, out, mask = _round_trip(cut, detector)
    assert aligned and out.shape == cut.shape
    assert np.array_equal(out[mask == 0], cut[mask == 0])


def test_huge_photo(detector):
    photo = Image.fromarray(_photo("ageitgey__examples_obama.jpg"))
    huge = np.asarray(photo.resize((photo.width * 4200 // photo.height, 4200)))
    aligned, out, mask = _round_trip(huge, detector)
    assert len(aligned) == 1 and out.shape == huge.shape
    assert np.array_equal(out[mask == 0], huge[mask == 0])


def test_mixed_batch_processes_each_image_on_its_own(pipeline, detector):
    group = _photo("ageitgey__examples_two_people.jpg", 500)
    portrait = _photo("ageitgey__examples_obama.jpg", 400)
    empty = np.full((120, 200, 3), 90, np.uint8)
    results = process_photos(pipeline, [group, empty, portrait], detector, degree=1.25, guidance=1.0, steps=1,
                             seed=0, scheduler="ddpm", batch_size=2)
    assert [len(r.faces) for r in results] == [2, 0, 1]
    for result, image in zip(results, [group, empty, portrait]):
        assert result.image.shape == image.shape
        assert np.array_equal(result.image[result.mask == 0], image[result.mask == 0])
    alone = process_photos(pipeline, [portrait], detector, degree=1.25, guidance=1.0, steps=1, seed=0,
                           scheduler="ddpm", batch_size=2)
    assert np.abs(alone[0].image.astype(int) - results[2].image.astype(int)).max() <= 1
