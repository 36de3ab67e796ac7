# SPDX-License-Identifier: AGPL-3.0-or-later
"""Similarity fitting, the whole_face and ffhq framings, and crop quality."""

from functools import lru_cache

import cv2
import numpy as np
import pytest
from conftest import YUNET, shared_file
from PIL import Image

from faceanon.core.errors import FaceAnonError
from faceanon.core.faces import (
    Face,
    FaceDetector,
    align_face,
    alignment_matrix,
    canonical_landmarks,
    invert_affine,
    transform_points,
    umeyama,
)
from faceanon.core.faces.landmark_refinement import face_roll
from faceanon.core.faces.templates import DFL_TEMPLATE_5
from faceanon.core.faces.warp import warp_affine

PORTRAIT = "ageitgey__examples_obama.jpg"


@lru_cache(maxsize=None)
def detector() -> FaceDetector:
    return FaceDetector(YUNET)


def portrait() -> tuple[np.ndarray, Face]:
    image = np.asarray(Image.open(shared_file("faces", PORTRAIT)).convert("RGB"))
    (face,) = detector().detect(image)
    return image, face


def similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return np.array([[scale * np.cos(a), -scale * np.sin(a), tx], [scale * np.sin(a), scale * np.cos(a), ty]])


def face_with(landmarks: np.ndarray) -> Face:
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    return Face(box=(*lo, *hi), score=1.0, landmarks=landmarks)


def test_umeyama_recovers_a_similarity_and_never_reflects(rng):
    points = rng.uniform(0, 100, (5, 2))
    truth = similarity(33, 1.7, 12, -4)
    assert np.allclose(umeyama(points, transform_points(points, truth)), truth)
    mirrored = points * [-1, 1]
    fit = umeyama(points, mirrored)
    assert np.linalg.det(fit[:, :2]) > 0


@pytest.mark.parametrize("framing", ["whole_face", "ffhq"])
def test_landmarks_land_on_the_framing_template(framing):
    template = canonical_landmarks(framing, 512)
    for transform in (similarity(0, 300, 50, 80), similarity(-40, 120, 400, 10), similarity(170, 55, 0, 300)):
        landmarks = transform_points(DFL_TEMPLATE_5, transform)
        matrix = alignment_matrix(landmarks, framing, 512)
        assert np.allclose(transform_points(landmarks, matrix), template, atol=1e-6)


def test_whole_face_matches_the_deepfacelab_square():
    # WHOLE_FACE: a square of side 2 * (0.4 * sqrt2 + 0.5) template units, centred 0.07 above the
    # template's centre (spec 5.2).
    landmarks = transform_points(DFL_TEMPLATE_5, similarity(25, 200, 300, 200))
    half = 0.4 * np.sqrt(2) + 0.5
    unit_to_crop = np.array([[512 / (2 * half), 0, 0], [0, 512 / (2 * half), 0]])
    unit_to_crop[:, 2] = -unit_to_crop[0, 0] * np.array([0.5 - half, 0.5 - 0.07 - half])
    expected = transform_points(DFL_TEMPLATE_5, unit_to_crop)
    assert np.allclose(transform_points(landmarks, alignment_matrix(landmarks, "whole_face", 512)), expected)


def test_ffhq_square_follows_the_dataset_recipe():
    landmarks = np.array([[100, 100], [160, 100], [130, 130], [108, 160], [152, 160]], np.float64)
    matrix = alignment_matrix(landmarks, "ffhq", 1024)
    # x = eye_to_eye - rot(eye_to_mouth) = (120, 0) -> side 2 * max(2 * 60, 1.8 * 60) = 240 px.
    assert np.allclose(matrix[:, :2], np.eye(2) * 1024 / 240)
    centre = np.array([130, 100 + 0.1 * 60])
    assert np.allclose(transform_points(centre, matrix), [512, 512])


def test_unknown_framing_is_rejected_by_name():
    with pytest.raises(FaceAnonError, match="'head'"):
        alignment_matrix(DFL_TEMPLATE_5, "head")


@pytest.mark.parametrize("framing", ["whole_face", "ffhq"])
def test_real_face_aligns_to_template_and_inverse_round_trips(framing):
    image, face = portrait()
    aligned = align_face(image, face, framing, 512)
    assert aligned.image.shape == (512, 512, 3) and aligned.image.dtype == np.uint8
    assert np.abs(aligned.landmarks - canonical_landmarks(framing, 512)).max() < 0.05 * 512
    round_trip = transform_points(transform_points(face.landmarks, aligned.matrix), aligned.inverse)
    assert np.allclose(round_trip, face.landmarks, atol=1e-3)
    assert np.allclose(invert_affine(aligned.inverse), aligned.matrix)


@pytest.mark.parametrize("degrees", [-30, 30])
def test_rotated_photo_gives_an_upright_crop(degrees):
    image, upright = portrait()
    height, width = image.shape[:2]
    rotation = cv2.getRotationMatrix2D(upright.center, degrees, 1.0)
    rotated = cv2.warpAffine(image, rotation, (width, height), borderMode=cv2.BORDER_REFLECT_101)
    (face,) = detector().detect(rotated)
    aligned = align_face(rotated, face)
    # Judge the crop by where the face really is: the upright detection, turned with the image.
    true_landmarks = transform_points(transform_points(upright.landmarks, rotation), aligned.matrix)
    assert abs(np.degrees(face_roll(true_landmarks))) < 6
    nose, mouth = true_landmarks[2], true_landmarks[3:].mean(axis=0)
    assert true_landmarks[:2, 1].max() < nose[1] < mouth[1]


def test_shrinking_crop_filters_instead_of_aliasing():
    stripes = np.zeros((2000, 2000, 3), np.uint8)
    stripes[:, ::2] = 255  # 1-px stripes: any point sampling aliases them
    landmarks = transform_points(DFL_TEMPLATE_5, similarity(0, 1500, 250, 250))
    aligned = align_face(stripes, face_with(landmarks), "whole_face", 128)
    centre = aligned.image[32:96, 32:96].astype(float)
    assert abs(centre.mean() - 127.5) < 3 and centre.std() < 3


def test_enlarging_crop_is_smooth_and_edges_are_mirrored_not_white():
    image = np.zeros((60, 60, 3), np.uint8)
    image[:, :, 1] = np.linspace(0, 200, 60, dtype=np.uint8)[None, :]
    landmarks = transform_points(DFL_TEMPLATE_5, similarity(0, 40, 2, 2))  # crop hangs off the image
    aligned = align_face(image, face_with(landmarks), "whole_face", 256)
    assert aligned.image[:, :, 0].max() == 0 and aligned.image[:, :, 2].max() == 0
    assert not np.any(np.all(aligned.image >= 250, axis=2))


def test_float_images_give_float_crops_within_range():
    image = np.random.default_rng(1).random((200, 200, 3)).astype(np.float32)
    landmarks = transform_points(DFL_TEMPLATE_5, similarity(10, 60, 70, 60))
    aligned = align_face(image, face_with(landmarks), "ffhq", 256)
    assert aligned.image.dtype == np.float32 and aligned.image.min() >= 0 and aligned.image.max() <= 1


@pytest.mark.parametrize("scale", [0.23, 0.5, 1.0, 2.7])
def test_warp_keeps_positions_when_shrinking_and_enlarging(scale):
    height, width = 700, 900
    ys, xs = np.mgrid[:height, :width].astype(np.float32)
    ramps = np.dstack([xs, ys, xs + ys])  # area averaging and interpolation preserve linear ramps
    matrix = similarity(17, scale, 40, -30)
    warped = warp_affine(ramps, matrix, (120, 100), border_mode=cv2.BORDER_REPLICATE)
    v, u = np.mgrid[:100, :120]
    expected = transform_points(np.column_stack([u.ravel(), v.ravel()]), invert_affine(matrix))
    inside = ((expected > 10) & (expected < [width - 10, height - 10])).all(axis=1)
    assert inside.sum() > 1000
    got = warped.reshape(-1, 3)[inside, :2]
    assert np.abs(got - expected[inside]).max() < 0.1 / min(scale, 1.0)  # a tenth of an output pixel
