# SPDX-License-Identifier: AGPL-3.0-or-later
"""No face leaks at the image border: landmarks stay on their face, and whatever places a crop, the middle
of every detected box ends up replaced (by its box, and reported so, when the crop missed it)."""

import os

import numpy as np
import pytest
from conftest import CENTERFACE, YUNET, shared_file
from PIL import Image

from faceanon.core import FaceAnonError, FailClosed, face_stages, photos
from faceanon.core.face_report import BY_BOX
from faceanon.core.faces import (
    DETECTION_MODES, Face, FaceDetector, StaticFaces, load_detector, redact_faces, redact_faces_covered,
)
from faceanon.core.faces.coverage import COVERED_WEIGHT, central_region
from faceanon.core.faces.image_io import to_float32
from faceanon.core.faces.landmark_refinement import refine_landmarks
from faceanon.core.faces.templates import BOX_RELATIVE_LANDMARKS

CARELL = "cmusatyala__images_examples_carell.jpg"
OBAMA_PARTIAL = "ageitgey__tests_test_images_obama_partial_face.jpg"
MAGENTA = np.array([1.0, 0.0, 1.0], np.float32)
RUN = dict(degree=1.25, guidance=1.0, steps=1, seed=3, scheduler="ddpm")


def shared_photo(name: str, max_side: int | None = None) -> np.ndarray:
    """A shared photo (long side at most `max_side`); skips the test without the shared photos."""
    image = Image.open(shared_file("faces", name)).convert("RGB")
    if max_side:
        image.thumbnail((max_side, max_side))
    return np.asarray(image)


def middle(face: Face, image: np.ndarray) -> np.ndarray:
    region = central_region(face.box, *image.shape[:2])
    assert region is not None, face
    return image[region]


def face_off_its_box() -> Face:
    """A face whose landmarks lie a whole box to the right of its box, as mirrored refinement used to give."""
    box = np.array([60.0, 50.0, 140.0, 150.0])
    landmarks = box[:2] + BOX_RELATIVE_LANDMARKS * (box[2:] - box[:2]) + [box[2] - box[0] + 20, 0]
    return Face(box=box, score=1.0, landmarks=landmarks)


# --- the cause: landmark refinement ---------------------------------------------------------------------------


def test_refinement_falls_back_when_the_crops_find_another_face():
    box = (100.0, 100.0, 200.0, 220.0)
    detected = np.array(box[:2]) + BOX_RELATIVE_LANDMARKS * [100, 120]

    def far_face(crop):  # a face in the middle of every crop, but with points far off to one side
        size = crop.shape[1]
        row = np.zeros(15)
        row[:4] = [size * 0.3, size * 0.3, size * 0.4, size * 0.4]
        row[4:14] = (size * 0.5 + (BOX_RELATIVE_LANDMARKS - 0.5) * size * 0.4 + [size, 0]).ravel()
        return row[None]

    refined = refine_landmarks(far_face, np.zeros((400, 400, 3), np.uint8), detected, box)
    np.testing.assert_allclose(refined, detected, atol=1e-4)


@pytest.mark.parametrize("width", [379, 409, 412, 415])
def test_refined_landmarks_stay_in_the_box_of_a_face_at_the_border(width):
    image = np.ascontiguousarray(shared_photo(CARELL)[:, :width])
    (face,) = FaceDetector(YUNET).detect(image)
    x0, y0, x1, y1 = face.box
    margin = 0.1 * face.size
    assert np.all((face.landmarks >= [x0 - margin, y0 - margin]) & (face.landmarks <= [x1 + margin, y1 + margin]))


@pytest.mark.parametrize("name, width", [(CARELL, 412), (OBAMA_PARTIAL, None)])
def test_black_redaction_covers_faces_cut_by_the_border(name, width):
    image = shared_photo(name)
    image = np.ascontiguousarray(image[:, :width] if width else image)
    (face,) = FaceDetector(YUNET).detect(image)
    redacted, _ = redact_faces(image, [face], "black")
    assert middle(face, redacted).max() <= 255 * (1 - COVERED_WEIGHT) + 1


# --- the guard: every detector, every cause ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["blur", "black"])
def test_redaction_whose_crop_misses_the_face_is_redone_by_its_box(rng, method):
    image = rng.integers(0, 256, (200, 320, 3), dtype=np.uint8)
    face = face_off_its_box()
    redaction = redact_faces_covered(image, [face], method)
    assert redaction.by_box == [0]
    assert middle(face, redaction.mask).min() >= COVERED_WEIGHT
    changed = np.abs(middle(face, redaction.image).astype(int) - middle(face, image)).max(axis=-1)
    assert (changed > 0).mean() > 0.99
    on_its_box = redact_faces_covered(image, [StaticFaces([face.box]).faces[0]], method)
    assert on_its_box.by_box == []


def test_grayscale_and_tiny_faces_are_covered_too(rng):
    image = rng.integers(0, 256, (60, 60), dtype=np.uint8)
    tiny_and_off = Face(box=(10, 10, 13, 14), score=1.0, landmarks=BOX_RELATIVE_LANDMARKS * [3, 4] + [40, 40])
    faces = [tiny_and_off, face_at_corner()]
    redacted, mask = redact_faces(image, faces, "black")
    assert redacted.shape == image.shape
    for face in faces:
        assert middle(face, mask).min() >= COVERED_WEIGHT


def face_at_corner() -> Face:
    box = (-20.0, -30.0, 25.0, 20.0)  # mostly outside the image
    return Face(box=box, score=1.0, landmarks=np.array(box[:2]) + BOX_RELATIVE_LANDMARKS * [45, 50])


class MagentaGeneration:
    """Stands in for face_stages.generate_faces: every generated crop is magenta."""

    def __call__(self, pipe, crops, seeds, generation, **kwargs):
        return [np.broadcast_to(MAGENTA, (512, 512, 3)).copy() for _ in crops]


def test_anonymized_face_whose_crop_misses_it_is_redacted_by_its_box_and_reported(monkeypatch, rng):
    monkeypatch.setattr(face_stages, "generate_faces", MagentaGeneration())
    image = rng.integers(0, 256, (200, 320, 3), dtype=np.uint8)
    missed, fine = face_off_its_box(), StaticFaces([(200, 40, 280, 140)]).faces[0]
    (result,) = photos.process_photos(None, [image], StaticFaces([missed.box, fine.box], [missed.landmarks,
                                      fine.landmarks]), fail_closed=FailClosed(method="black"), **RUN)
    assert [entry["action"] for entry in result.report] == [f"redacted ({BY_BOX})", "anonymized"]
    assert result.report[0]["redaction_method"] == "black" and result.crops[0] is None
    assert middle(missed, result.image).max() <= 255 * (1 - COVERED_WEIGHT) + 1
    assert np.allclose(to_float32(middle(fine, result.image)), MAGENTA, atol=0.02)


def test_without_fail_closed_an_uncovered_face_is_an_error(monkeypatch, rng):
    monkeypatch.setattr(face_stages, "generate_faces", MagentaGeneration())
    image = rng.integers(0, 256, (200, 320, 3), dtype=np.uint8)
    face = face_off_its_box()
    with pytest.raises(FaceAnonError, match="does not cover the middle"):
        photos.process_photos(None, [image], StaticFaces([face.box], [face.landmarks]),
                              fail_closed=FailClosed(enabled=False), **RUN)


# --- the property: crops at the four borders, every detection mode ---------------------------------------------

BORDER_PHOTOS = ("cmusatyala__images_examples_carell.jpg", "ageitgey__examples_obama.jpg",
                 "ageitgey__examples_two_people.jpg")
CUTS = (0.35, 0.55, 0.75, 0.9)  # where the border cuts the (first) face: fraction of its box kept


def border_crops(image: np.ndarray, face: Face):
    """Crops of `image` whose left, right, top or bottom edge runs through `face`'s box."""
    x0, y0, x1, y1 = face.box
    for kept in CUTS:
        yield "right", image[:, : int(x0 + kept * (x1 - x0))]
        yield "left", image[:, int(x1 - kept * (x1 - x0)):]
        yield "bottom", image[: int(y0 + kept * (y1 - y0))]
        yield "top", image[int(y1 - kept * (y1 - y0)):]


@pytest.mark.parametrize("mode", list(DETECTION_MODES))
def test_every_detected_face_is_covered_in_crops_at_the_four_borders(monkeypatch, mode):
    monkeypatch.setattr(face_stages, "generate_faces", MagentaGeneration())
    originals = [shared_photo(name, max_side=640) for name in BORDER_PHOTOS]
    detector = load_detector(mode, model_paths={"yunet": YUNET, "centerface": CENTERFACE})
    checked = 0
    for name, photo in zip(BORDER_PHOTOS, originals):
        for side, crop in border_crops(photo, max(detector.detect(photo), key=lambda f: f.size)):
            crop = np.ascontiguousarray(crop)
            faces = detector.detect(crop)
            if not faces:
                continue
            redacted, _ = redact_faces(crop, faces, "black")
            found = StaticFaces([f.box for f in faces], [f.landmarks for f in faces])
            (anonymized,) = photos.process_photos(None, [crop], found, **RUN)
            for face in faces:
                where = f"{name} cut at the {side}, {mode}: {face}"
                assert middle(face, redacted).max() <= 255 * (1 - COVERED_WEIGHT) + 1, where
                changed = np.abs(middle(face, anonymized.image).astype(int) - middle(face, crop)).max(axis=-1) > 0
                assert changed.mean() > 0.99, where
                checked += 1
    assert checked >= len(BORDER_PHOTOS) * len(CUTS) * 2, checked  # most crops keep a face the detector finds
