# SPDX-License-Identifier: AGPL-3.0-or-later
"""Cutting aligned square crops of faces out of an image."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .face import Face
from .framing import alignment_matrix, invert_affine, transform_points
from .image_io import ImageLike, as_array
from .warp import warp_affine


@dataclass(frozen=True, eq=False)
class AlignedFace:
    """A face's aligned crop and the transforms between it and the source image.

    `image` is size x size x C with the source's dtype; `matrix` (2x3) maps source pixels to crop
    pixels and `inverse` maps back; `source_size` is the source's (height, width).
    """

    face: Face
    image: np.ndarray
    matrix: np.ndarray
    inverse: np.ndarray
    framing: str
    size: int
    source_size: tuple[int, int]

    @property
    def landmarks(self) -> np.ndarray:
        """The face's landmarks in crop pixels."""
        return transform_points(self.face.landmarks, self.matrix).astype(np.float32)

    @property
    def scale(self) -> float:
        """Crop pixels per source pixel."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    def corners_in_source(self) -> np.ndarray:
        """The crop square's corners (top-left, top-right, bottom-right, bottom-left) in the source."""
        s = self.size
        return transform_points([(0, 0), (s, 0), (s, s), (0, s)], self.inverse)


def crop_face(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The size x size crop that `matrix` defines: Lanczos when enlarging, area filter when shrinking,
    image edges mirrored rather than filled with a colour."""
    crop = warp_affine(image, matrix, (size, size), interpolation=cv2.INTER_LANCZOS4)
    if np.issubdtype(crop.dtype, np.floating):
        np.clip(crop, 0.0, 1.0, out=crop)  # Lanczos overshoots; uint8 saturates by itself
    return crop


def align_face(
    image: ImageLike, face: Face, framing: str = "whole_face", size: int = 512
) -> AlignedFace:
    return align_pixels(as_array(image), face, framing, size)


def align_pixels(array: np.ndarray, face: Face, framing: str = "whole_face", size: int = 512) -> AlignedFace:
    """`align_face` on an HxWxC array that `as_array` has already checked: loops over faces check the
    whole image once, not once a face."""
    if size < 8:
        raise ValueError(f"crop size must be at least 8 px, got {size}")
    matrix = alignment_matrix(face.landmarks, framing, size)
    return AlignedFace(
        face=face,
        image=crop_face(array, matrix, size),
        matrix=matrix,
        inverse=invert_affine(matrix),
        framing=framing,
        size=int(size),
        source_size=(array.shape[0], array.shape[1]),
    )


def align_faces(
    image: ImageLike, faces: Sequence[Face], framing: str = "whole_face", size: int = 512
) -> list[AlignedFace]:
    array = as_array(image)
    return [align_pixels(array, face, framing, size) for face in faces]
