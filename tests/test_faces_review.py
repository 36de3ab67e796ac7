# SPDX-License-Identifier: AGPL-3.0-or-later
"""The review overlay: each face's box in the colour of the model(s) that found it, on a copy of the image."""

import numpy as np
import pytest

from faceanon.core.faces import Face, landmarks_from_box, review_overlay
from faceanon.core.faces.review import FINDER_COLOURS, OTHER_COLOUR

BOXES = {"yunet+centerface": (20, 30, 80, 110), "yunet": (120, 30, 180, 110), "centerface": (220, 30, 280, 110),
         "": (320, 30, 380, 110)}


def faces() -> list[Face]:
    return [Face(box, 0.8, landmarks_from_box(box), found_by=finder) for finder, box in BOXES.items()]


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_each_box_is_drawn_in_its_finders_colour_and_the_input_is_untouched(dtype):
    image = np.full((200, 400, 3), 128, np.uint8)
    source = image if dtype == np.uint8 else image.astype(np.float32) / 255
    before = source.copy()
    overlay = review_overlay(source, faces())
    assert np.array_equal(source, before)
    assert overlay.shape == (200, 400, 3) and overlay.dtype == dtype
    pixels = overlay if dtype == np.uint8 else np.rint(overlay * 255).astype(np.uint8)
    for finder, (x0, y0, x1, y1) in BOXES.items():
        colour = FINDER_COLOURS.get(finder, OTHER_COLOUR)
        assert tuple(pixels[(y0 + y1) // 2, x0]) == colour and tuple(pixels[(y0 + y1) // 2, x1]) == colour
        assert tuple(pixels[y0 + 20, (x0 + x1) // 2 - 12]) == (128, 128, 128), "the face itself stays visible"


def test_faces_aligned_by_their_box_are_marked():
    image = np.full((200, 200, 3), 128, np.uint8)
    box = (40, 40, 160, 160)
    plain = review_overlay(image, [Face(box, 0.8, landmarks_from_box(box), found_by="centerface")])
    marked = review_overlay(image, [Face(box, 0.8, landmarks_from_box(box), found_by="centerface", alignment="box")])
    assert (marked != plain).any(axis=2)[60:140, 40:60].any()


def test_grey_and_alpha_images_give_rgb_overlays():
    assert review_overlay(np.zeros((50, 60, 1), np.uint8), []).shape == (50, 60, 3)
    assert review_overlay(np.zeros((50, 60, 4), np.uint8), []).shape == (50, 60, 3)
