# SPDX-License-Identifier: AGPL-3.0-or-later
"""Choosing and ordering faces."""

import numpy as np
import pytest

from faceanon.core.errors import FaceAnonError
from faceanon.core.faces import Face, landmarks_from_box, parse_face_indices, select_faces


def face(x0, y0, x1, y1, score=0.95) -> Face:
    return Face(box=(x0, y0, x1, y1), score=score, landmarks=landmarks_from_box((x0, y0, x1, y1)))


SMALL_LEFT = face(10, 200, 40, 240)  # 30x40, centre (25, 220)
BIG_MIDDLE = face(200, 50, 320, 200, score=0.91)  # 120x150, centre (260, 125)
MEDIUM_RIGHT = face(500, 100, 580, 190)  # 80x90, centre (540, 145)
FACES = [MEDIUM_RIGHT, SMALL_LEFT, BIG_MIDDLE]


@pytest.mark.parametrize(
    "order, expected",
    [
        ("largest", [BIG_MIDDLE, MEDIUM_RIGHT, SMALL_LEFT]),
        ("left_to_right", [SMALL_LEFT, BIG_MIDDLE, MEDIUM_RIGHT]),
        ("right_to_left", [MEDIUM_RIGHT, BIG_MIDDLE, SMALL_LEFT]),
        ("top_to_bottom", [BIG_MIDDLE, MEDIUM_RIGHT, SMALL_LEFT]),
    ],
)
def test_orders(order, expected):
    assert select_faces(FACES, order=order) == expected


def test_indices_pick_positions_after_ordering():
    assert select_faces(FACES, order="left_to_right", indices="2, 0") == [MEDIUM_RIGHT, SMALL_LEFT]
    assert select_faces(FACES, indices=[1]) == [MEDIUM_RIGHT]
    assert select_faces(FACES, indices="  ") == select_faces(FACES)


@pytest.mark.parametrize(
    "indices, message",
    [("0,x", "'x' is not a whole number"), ("1.5", "'1.5' is not a whole number"), ("0,,1", "'' is not"),
     ("-1", "-1 is negative"), ("0,3", "3 out of range; 3 face\\(s\\) remain")],
)
def test_bad_indices_name_the_input(indices, message):
    with pytest.raises(FaceAnonError, match=message) as caught:
        select_faces(FACES, indices=indices)
    assert repr(indices) in str(caught.value)


def test_index_out_of_range_after_filtering_says_none_remain():
    with pytest.raises(FaceAnonError, match="valid indices are none"):
        select_faces(FACES, min_size=1000, indices="0")


def test_parse_face_indices_drops_duplicates():
    assert parse_face_indices("2,0,2") == [2, 0]
    assert parse_face_indices(None) is None


def test_min_size_min_score_and_max_faces():
    assert select_faces(FACES, min_size=80) == [BIG_MIDDLE, MEDIUM_RIGHT]
    assert select_faces(FACES, min_score=0.93) == [MEDIUM_RIGHT, SMALL_LEFT]
    assert select_faces(FACES, max_faces=2) == [BIG_MIDDLE, MEDIUM_RIGHT]
    assert select_faces(FACES, order="left_to_right", max_faces=1) == [SMALL_LEFT]
    with pytest.raises(FaceAnonError, match="max_faces"):
        select_faces(FACES, max_faces=-1)


def test_mask_keeps_faces_whose_box_centre_is_inside():
    mask = np.zeros((300, 600), np.float32)
    mask[100:160, 500:600] = 1.0  # covers MEDIUM_RIGHT's centre only
    mask[120:130, 255:265] = 0.5  # BIG_MIDDLE's centre, but not above 0.5
    assert select_faces(FACES, mask=mask) == [MEDIUM_RIGHT]
    assert select_faces(FACES, mask=(mask > 0.5)[:, :, None]) == [MEDIUM_RIGHT]
    with pytest.raises(FaceAnonError, match="HxW"):
        select_faces(FACES, mask=np.zeros((2, 300, 600)))


def test_unknown_order_is_rejected():
    with pytest.raises(FaceAnonError, match="'biggest'"):
        select_faces(FACES, order="biggest")
