# SPDX-License-Identifier: AGPL-3.0-or-later
"""YuNet detection on real photographs, user-supplied faces, and NMS."""

import csv
from functools import lru_cache

import numpy as np
import pytest
from conftest import YUNET, shared_file
from PIL import Image

from faceanon.core.errors import ModelFileError
from faceanon.core.faces import Detector, Face, FaceDetector, StaticFaces, landmarks_from_box
from faceanon.core.faces.nms import nms


@lru_cache(maxsize=None)
def manifest() -> dict[str, str]:
    with open(shared_file("faces", "manifest.csv"), newline="") as f:
        return {row["file"]: row["n_faces"] for row in csv.DictReader(f)}


def photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(shared_file("faces", name)).convert("RGB"))


@lru_cache(maxsize=None)
def detector(refine_landmarks: bool = True) -> FaceDetector:
    return FaceDetector(YUNET, refine_landmarks=refine_landmarks)


@lru_cache(maxsize=None)
def detect(name: str, refine_landmarks: bool = False) -> tuple[Face, ...]:
    """Faces in a photo; landmark refinement (slower) does not change which faces are found."""
    return tuple(detector(refine_landmarks).detect(photo(name)))


def count_range(n_faces: str) -> tuple[int, int]:
    """The manifest's counts: exact, or `~n` meaning n +- 30% (at least +- 2)."""
    if n_faces.startswith("~"):
        n = int(n_faces[1:])
        slack = max(2, round(0.3 * n))
        return n - slack, n + slack
    return int(n_faces), int(n_faces)


SINGLE_FACES = [
    "ageitgey__examples_obama.jpg",
    "ageitgey__examples_obama-240p.jpg",
    "dlib__johns_John_Simm_000288_00470387.jpg",
    "cmusatyala__images_examples_clapton-2.jpg",
    "skimage__astronaut.png",
]
GROUPS = ["hanweikung__my_dataset_test_friends.jpg", "davisking__examples_faces_2008_002079.jpg"]


@pytest.mark.parametrize("name", SINGLE_FACES + GROUPS + ["davisking__examples_faces_dogs.jpg"])
def test_face_count_matches_manifest(name):
    low, high = count_range(manifest()[name])
    assert low <= len(detect(name)) <= high


def test_faces_are_well_formed():
    faces = detect("hanweikung__my_dataset_test_friends.jpg", refine_landmarks=True)
    height, width = photo("hanweikung__my_dataset_test_friends.jpg").shape[:2]
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    for face in faces:
        x0, y0, x1, y1 = face.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        assert face.landmarks.shape == (5, 2) and face.landmarks.dtype == np.float32
        right_eye, left_eye, nose, right_mouth, left_mouth = face.landmarks
        # YuNet order names the subject's sides: their right eye is on the image's left.
        assert right_eye[0] < left_eye[0] and right_mouth[0] < left_mouth[0]
        assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])
        assert x0 <= nose[0] <= x1 and y0 <= nose[1] <= y1


def test_multi_megapixel_portrait_is_found():
    (face,) = detect("ageitgey__tests_test_images_obama3.jpg")  # 1434x2333
    assert face.size > 300


def test_faces_too_large_for_one_pass_are_found_by_the_smaller_scales():
    name = "cmusatyala__images_examples_lennon-2.jpg"  # 1200x1200, face ~700 px
    assert FaceDetector(YUNET, long_sides=(1280,), refine_landmarks=False).detect(photo(name)) == []
    (face,) = detect(name)
    assert face.size > 500


def test_yunet_detector_implements_the_detector_interface():
    assert isinstance(detector(), Detector)


def test_pil_and_array_inputs_agree():
    name = "ageitgey__examples_obama-240p.jpg"
    from_pil = detector(False).detect(Image.open(shared_file("faces", name)))
    assert [f.box for f in from_pil] == [f.box for f in detect(name)]


def test_missing_model_file_names_the_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        FaceDetector(models_dir=tmp_path)
    message = str(caught.value)
    assert "face_detection_yunet_2023mar.onnx" in message and str(tmp_path / "detectors") in message


def test_static_faces_estimate_landmarks_from_boxes():
    source = StaticFaces([(100, 50, 200, 170), (300, 40, 340, 90)], scores=[0.5, 1.0])
    assert isinstance(source, Detector)
    faces = source.detect(np.zeros((300, 400, 3), np.uint8))
    assert [f.score for f in faces] == [0.5, 1.0]
    right_eye, left_eye, nose, right_mouth, left_mouth = faces[0].landmarks
    assert right_eye[0] < 150 < left_eye[0] and right_eye[1] == left_eye[1] < nose[1] < right_mouth[1]
    assert np.allclose(faces[1].landmarks, landmarks_from_box((300, 40, 340, 90)))


def test_static_faces_keep_given_landmarks_and_validate_shapes():
    points = np.arange(10, dtype=np.float32).reshape(1, 5, 2)
    (face,) = StaticFaces([(0, 0, 10, 10)], landmarks=points).detect(None)
    assert np.array_equal(face.landmarks, points[0])
    with pytest.raises(ValueError, match="landmarks must have shape"):
        StaticFaces([(0, 0, 10, 10)], landmarks=np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="x1 > x0"):
        StaticFaces([(10, 0, 5, 10)])


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]])
    kept = nms(boxes, np.array([0.8, 0.9, 0.5, 0.7]), iou_threshold=0.3)
    assert kept.tolist() == [1, 2]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.3).tolist() == []



def test_unreadable_model_file_is_reported_with_its_path(tmp_path):
    broken = tmp_path / "face_detection_yunet_2023mar.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(ModelFileError, match="could not load the YuNet face detector from .*2023mar.onnx"):
        FaceDetector(broken)


def test_fast_mode_scans_two_scales_without_enlarging_or_refining():
    fast = FaceDetector(YUNET, mode="fast")
    assert fast.long_sides == (640, 320) and not fast.refine_landmarks
    assert fast._scales((1080, 1920)) == [1 / 3, 1 / 6]
    assert fast._scales((512, 512)) == [1.0, 0.625], "small images are not enlarged"
    assert detector()._scales((512, 512)) == [2.0, 1.25, 1.0, 0.625]
    name = "hanweikung__my_dataset_test_friends.jpg"
    group = photo(name)
    frame = np.asarray(Image.fromarray(group).resize((1920, 1080), Image.Resampling.LANCZOS))
    low, high = count_range(manifest()[name])
    found = fast.detect(frame)
    assert low <= len(found) <= high
    accurate = FaceDetector(YUNET, refine_landmarks=False).detect(frame)
    assert len(found) == len(accurate)


def test_explicit_passes_and_refinement_override_the_mode():
    custom = FaceDetector(YUNET, mode="fast", long_sides=(900,), refine_landmarks=True)
    assert custom.long_sides == (900,) and custom.refine_landmarks and custom.mode == "fast"
    with pytest.raises(ValueError, match="mode: expected one of accurate, fast, got 'quick'"):
        FaceDetector(YUNET, mode="quick")


def test_networks_cached_per_input_size_give_the_same_faces():
    cached = FaceDetector(YUNET, refine_landmarks=False)
    images = [photo(name) for name in SINGLE_FACES[:6]]  # more input sizes than the cache holds
    first = [cached.detect(image) for image in images]
    again = [cached.detect(image) for image in reversed(images)][::-1]
    for before, after, image in zip(first, again, images):
        fresh = FaceDetector(YUNET, refine_landmarks=False).detect(image)
        assert [f.box for f in before] == [f.box for f in after] == [f.box for f in fresh]
        assert len(before) == 1
