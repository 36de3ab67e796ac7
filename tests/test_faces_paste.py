# SPDX-License-Identifier: AGPL-3.0-or-later
"""Blending crops back: exactness outside the mask, feathering, overlap order, colour match."""

import numpy as np
import pytest
from PIL import Image

from faceanon.core.faces import Face, align_face, face_mask, paste_faces
from faceanon.core.faces.templates import DFL_TEMPLATE_5


def face_at(scale: float, x: float, y: float, angle_deg: float = 0.0) -> Face:
    a = np.deg2rad(angle_deg)
    rotation = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    landmarks = DFL_TEMPLATE_5 @ rotation.T + [x, y]
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    return Face(box=(*lo, *hi), score=1.0, landmarks=landmarks)


@pytest.fixture
def noise_image(rng) -> np.ndarray:
    return rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)


def solid_crop(size: int, colour) -> np.ndarray:
    return np.broadcast_to(np.asarray(colour, np.uint8), (size, size, 3)).copy()


@pytest.mark.parametrize("framing", ["whole_face", "ffhq"])
def test_pixels_outside_the_mask_are_bit_identical_uint8(noise_image, framing):
    aligned = align_face(noise_image, face_at(90, 150, 100, angle_deg=20), framing, 256)
    result, mask = paste_faces(noise_image, [aligned], [solid_crop(256, (255, 0, 0))])
    assert result.dtype == np.uint8 and result.shape == noise_image.shape
    assert mask.dtype == np.float32 and mask.shape == noise_image.shape[:2]
    outside = mask == 0
    assert outside.any() and np.array_equal(result[outside], noise_image[outside])
    assert np.all(result[mask >= 0.999] == [255, 0, 0])


def test_pixels_outside_the_mask_are_bit_identical_float(rng):
    image = rng.random((200, 240, 3)).astype(np.float32)
    aligned = align_face(image, face_at(60, 90, 60), "whole_face", 128)
    result, mask = paste_faces(image, [aligned], [np.zeros((128, 128, 3), np.float32)])
    assert result.dtype == np.float32
    outside = mask == 0
    assert np.array_equal(result[outside], image[outside])
    assert np.all(result[mask == 1] == 0)


def test_grey_and_rgba_images_keep_their_channels(rng):
    grey = rng.integers(0, 256, (160, 160), dtype=np.uint8)
    aligned = align_face(grey, face_at(50, 55, 45), "whole_face", 128)
    result, mask = paste_faces(grey, [aligned], [solid_crop(128, (255, 255, 255))])
    assert result.shape == grey.shape and np.array_equal(result[mask == 0], grey[mask == 0])
    rgba = rng.integers(0, 256, (160, 160, 4), dtype=np.uint8)
    aligned = align_face(rgba, face_at(50, 55, 45), "whole_face", 128)
    result, mask = paste_faces(rgba, [aligned], [solid_crop(128, (0, 0, 0))])
    assert np.array_equal(result[..., 3], rgba[..., 3]) and np.all(result[mask == 1][:, :3] == 0)


def test_mask_is_feathered_and_its_opaque_core_covers_the_face(noise_image):
    face = face_at(90, 150, 100)
    aligned = align_face(noise_image, face, "whole_face", 256)
    _, mask = paste_faces(noise_image, [aligned], [aligned.image], feather=0.08)
    soft = (mask > 0) & (mask < 1)
    assert soft.sum() > 0.2 * (mask == 1).sum()
    for x, y in face.landmarks:
        assert mask[round(y), round(x)] == 1.0
    crop_mask = face_mask("whole_face", 256, feather=0.08)
    assert crop_mask[0].max() == 0 and crop_mask[:, -1].max() == 0  # never the hard crop square


def test_grow_and_feather_change_the_covered_area():
    base = face_mask("whole_face", 256)
    assert (face_mask("whole_face", 256, grow=0.05) == 1).sum() > (base == 1).sum()
    assert (face_mask("whole_face", 256, grow=-0.05) == 1).sum() < (base == 1).sum()
    assert ((face_mask("whole_face", 256, feather=0.1) > 0) & (base == 0)).any()
    hard = face_mask("whole_face", 256, feather=0)
    assert set(np.unique(hard)) <= {0.0, 1.0}


def test_a_later_overlapping_face_does_not_restore_the_earlier_one(noise_image):
    first = align_face(noise_image, face_at(80, 110, 90), "whole_face", 256)
    second = align_face(noise_image, face_at(80, 190, 110), "whole_face", 256)
    # The second crop still holds the original pixels of the first face, as in the official bug.
    result, _ = paste_faces(noise_image, [first, second], [solid_crop(256, (255, 0, 0)), second.image])
    _, first_weight = paste_faces(noise_image, [first], [first.image])
    _, second_weight = paste_faces(noise_image, [second], [second.image])
    corners = second.corners_in_source()
    ys, xs = np.mgrid[: noise_image.shape[0], : noise_image.shape[1]]
    inside_second_square = (
        (xs >= corners[:, 0].min()) & (xs <= corners[:, 0].max())
        & (ys >= corners[:, 1].min()) & (ys <= corners[:, 1].max())
    )
    kept = (first_weight == 1) & (second_weight == 0)
    assert (kept & inside_second_square).sum() > 500  # the official paste would restore these
    assert np.all(result[kept] == [255, 0, 0])


def test_colour_match_pulls_a_darker_crop_back_to_the_original_tone(rng):
    image = np.full((240, 240, 3), (180, 140, 120), np.uint8)
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    aligned = align_face(image, face_at(80, 80, 70), "whole_face", 256)
    darker = (aligned.image * 0.5).astype(np.uint8)
    plain, mask = paste_faces(image, [aligned], [darker])
    matched, _ = paste_faces(image, [aligned], [darker], color_match=True)
    core = mask == 1
    original_mean = image[core].mean(axis=0)
    assert np.abs(plain[core].mean(axis=0) - original_mean).max() > 40
    assert np.abs(matched[core].mean(axis=0) - original_mean).max() < 6


def test_crops_of_another_size_and_pil_crops_are_accepted(noise_image):
    aligned = align_face(noise_image, face_at(90, 150, 100), "whole_face", 256)
    crop = Image.fromarray(solid_crop(512, (0, 255, 0)))
    result, mask = paste_faces(noise_image, [aligned], [crop])
    assert np.all(result[mask == 1] == [0, 255, 0])


def test_mismatched_inputs_are_rejected(noise_image):
    aligned = align_face(noise_image, face_at(90, 150, 100), "whole_face", 128)
    with pytest.raises(ValueError, match="2 crops for 1 faces"):
        paste_faces(noise_image, [aligned], [aligned.image, aligned.image])
    with pytest.raises(ValueError, match="aligned on a 400x300 image"):
        paste_faces(noise_image[:100], [aligned], [aligned.image])
