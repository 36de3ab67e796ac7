# SPDX-License-Identifier: AGPL-3.0-or-later
"""Image -> crop affine matrices for the two framings of a face.

`whole_face` reproduces the official in-the-wild crop (DeepFaceLab WHOLE_FACE, padding 0.40, shifted
up by 7% of the template side), fitted here from YuNet's 5 points instead of 33 iBUG points.
`ffhq` is the FFHQ dataset recipe (eyes and mouth define an oriented square).
Every matrix is 2x3 float64 and maps image pixels to crop pixels of a size x size square.
"""

from __future__ import annotations

import numpy as np

from ..errors import FaceAnonError
from ..options import FRAMINGS  # noqa: F401 - listed with every option
from .templates import DFL_TEMPLATE_5

WHOLE_FACE_PADDING = 0.40
WHOLE_FACE_UPWARD_SHIFT = 0.07


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation; no reflection) taking the
    Nx2 points `src` onto `dst`, as a 2x3 matrix (Umeyama 1991)."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    signs = np.array([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rotation = u @ np.diag(signs) @ vt
    variance = (src_c**2).sum(axis=1).mean()
    scale = (s * signs).sum() / variance if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.column_stack([scale * rotation, translation])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to Nx2 points."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points @ np.asarray(matrix, dtype=np.float64)[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    linear = np.linalg.inv(np.asarray(matrix, dtype=np.float64)[:, :2])
    return np.column_stack([linear, -linear @ matrix[:, 2]])


def affine_from_points(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The affine matrix that maps 3 points exactly onto 3 others."""
    src = np.asarray(src, dtype=np.float64).reshape(3, 2)
    system = np.column_stack([src, np.ones(3)])
    return np.linalg.solve(system, np.asarray(dst, dtype=np.float64).reshape(3, 2)).T


def whole_face_matrix(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """The official WHOLE_FACE crop (spec 5.2) of a face given by its 5 landmarks."""
    image_to_unit = umeyama(landmarks, DFL_TEMPLATE_5)
    corners = transform_points(
        [(0, 0), (1, 0), (1, 1), (0, 1), (0.5, 0.5)], invert_affine(image_to_unit)
    )
    top_left, top_right, bottom_right, bottom_left, centre = corners
    down_diagonal = _unit(bottom_right - top_left)
    up_diagonal = _unit(top_right - bottom_left)
    half_diagonal = np.linalg.norm(top_left - bottom_right) * (WHOLE_FACE_PADDING * np.sqrt(2.0) + 0.5)
    centre = centre + (top_left - bottom_left) * WHOLE_FACE_UPWARD_SHIFT
    square = [
        centre - down_diagonal * half_diagonal,
        centre + up_diagonal * half_diagonal,
        centre + down_diagonal * half_diagonal,
    ]
    return affine_from_points(square, [(0, 0), (size, 0), (size, size)])


def ffhq_matrix(landmarks: np.ndarray, size: int = 512) -> np.ndarray:
    """The FFHQ alignment square of a face given by its 5 landmarks (YuNet order)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    eye_avg = (points[0] + points[1]) / 2.0
    eye_to_eye = points[1] - points[0]
    eye_to_mouth = (points[3] + points[4]) / 2.0 - eye_avg
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    top_left, bottom_left, top_right = c - x - y, c - x + y, c + x - y
    return affine_from_points([top_left, bottom_left, top_right], [(0, 0), (0, size), (size, 0)])


def alignment_matrix(landmarks: np.ndarray, framing: str = "whole_face", size: int = 512) -> np.ndarray:
    if framing == "whole_face":
        return whole_face_matrix(landmarks, size)
    if framing == "ffhq":
        return ffhq_matrix(landmarks, size)
    raise FaceAnonError(f"unknown framing {framing!r}; expected one of {', '.join(FRAMINGS)}")


def canonical_landmarks(framing: str = "whole_face", size: int = 512) -> np.ndarray:
    """Where the 5 landmarks of the mean face land in a crop of this framing."""
    # Both framings commute with similarity transforms, so any scaled copy of the template will do.
    face = DFL_TEMPLATE_5 * 100.0
    return transform_points(face, alignment_matrix(face, framing, size))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)
