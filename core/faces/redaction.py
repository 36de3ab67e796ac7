# SPDX-License-Identifier: AGPL-3.0-or-later
"""Classic face redaction (blur, pixelate, black, mean-colour fill) with the same crop and blend as
the generative path.

Every redaction is checked (see `coverage`): a face whose crop did not cover the middle of its box is
redacted again by its box, and `redact_faces_covered` says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import FaceAnonError
from ..options import REDACTION_METHODS  # noqa: F401 - listed with every option
from .alignment import align_pixels
from .coverage import box_face, uncovered_faces
from .face import Face
from .image_io import ImageLike, as_array, to_float32
from .masks import face_mask
from .paste import paste_pixels

# On the 512 px crop of a face at least FULL_STRENGTH_FACE_PX across. The official script's 51 px blur
# and 16 px blocks leave such faces recognisable (SFace similarity 0.4-0.8 on the shared photos).
BLUR_KERNEL = 151
PIXEL_SIZE = 32
# A small face holds little detail, so face recognition matches a blurred copy of it to the (already
# blurry) original more easily than a large one: with these fixed strengths the verifier still matched 17
# (blur) and 20 (pixelate) of the 169 faces of the shared photos, most under 96 px, and 37 (blur) and 32
# (pixelate) of the 39 faces under 96 px in group photos stayed nearest to their own original. Smaller
# faces therefore get a stronger blur and coarser blocks, (FULL_STRENGTH_FACE_PX / size) **
# STRENGTH_EXPONENT times, chosen with bench/bench_redaction.py: 1 face still matched for either method,
# and 15 and 11 of those 39 identified, as often as 96-192 px faces (10 of 31). No strength guarantees
# that a face cannot be recognized: the verifier checks that (`redact --verify`).
FULL_STRENGTH_FACE_PX = 384.0
STRENGTH_EXPONENT = 0.6
# How far the opaque core of a redaction reaches beyond the face ellipse, as a fraction of the crop side.
GROW = 0.03


def redact_crop(
    crop: np.ndarray,
    method: str = "blur",
    *,
    framing: str = "whole_face",
    blur_kernel: int = BLUR_KERNEL,
    pixel_size: int = PIXEL_SIZE,
) -> np.ndarray:
    """Redact a whole aligned crop (size x size x C); returns float32 in [0, 1]."""
    pixels = to_float32(as_array(crop))
    size = pixels.shape[0]
    if method == "blur":
        redacted = _gaussian_blur(pixels, max(1, int(blur_kernel)))
    elif method == "pixelate":
        cells = max(1, size // max(1, int(pixel_size)))
        small = cv2.resize(pixels, (cells, cells), interpolation=cv2.INTER_LINEAR)
        redacted = cv2.resize(small, (size, size), interpolation=cv2.INTER_NEAREST)
    elif method == "black":
        redacted = np.zeros_like(pixels)
    elif method == "fill":
        weights = (face_mask(framing, size, feather=0.0) > 0.5).reshape(-1)
        mean = pixels.reshape(-1, pixels.shape[2])[weights].mean(axis=0)
        redacted = np.broadcast_to(mean, pixels.shape).copy()
    else:
        raise _unknown_method(method)
    return redacted.reshape(pixels.shape)


def _gaussian_blur(pixels: np.ndarray, kernel: int) -> np.ndarray:
    """A Gaussian blur of `kernel` px. Wider kernels than BLUR_KERNEL (those of small faces) blur a copy
    shrunk to bring the kernel back to at most BLUR_KERNEL, then enlarge it: the result has no detail the
    shrinking could lose, and a 1000 px kernel costs no more than the usual one."""
    factor = -(-kernel // BLUR_KERNEL)  # ceil
    if factor == 1:
        return cv2.GaussianBlur(pixels, (kernel | 1, kernel | 1), 0)  # odd, as GaussianBlur requires
    height, width = pixels.shape[:2]
    small = cv2.resize(pixels, (max(1, round(width / factor)), max(1, round(height / factor))),
                       interpolation=cv2.INTER_AREA)
    reduced = max(1, round(kernel / factor)) | 1
    return cv2.resize(cv2.GaussianBlur(small, (reduced, reduced), 0), (width, height), interpolation=cv2.INTER_LINEAR)


def redaction_strength(face_size: float) -> float:
    """How many times the blur kernel and the block size grow for a face whose box is `face_size` px:
    1 from FULL_STRENGTH_FACE_PX up, (FULL_STRENGTH_FACE_PX / face_size) ** STRENGTH_EXPONENT below."""
    return max(1.0, FULL_STRENGTH_FACE_PX / max(float(face_size), 1.0)) ** STRENGTH_EXPONENT


@dataclass
class Redaction:
    """The redacted image, the HxW float32 mask of replaced pixels, and the indices of the faces whose
    own crop missed the middle of their box, so that they were redacted by their box."""

    image: np.ndarray
    mask: np.ndarray
    by_box: list[int] = field(default_factory=list)


def redact_faces(
    image: ImageLike,
    faces: Sequence[Face],
    method: str = "blur",
    framing: str = "whole_face",
    size: int = 512,
    **settings,
) -> tuple[np.ndarray, np.ndarray]:
    """Redact each face on its aligned crop and blend it back; returns (image, HxW float32 mask).

    `settings` are those of `redact_faces_covered`, which also says which faces its crop missed.
    """
    redaction = redact_faces_covered(image, faces, method, framing, size, **settings)
    return redaction.image, redaction.mask


def redact_faces_covered(
    image: ImageLike,
    faces: Sequence[Face],
    method: str = "blur",
    framing: str = "whole_face",
    size: int = 512,
    *,
    feather: float = 0.06,
    grow: float = GROW,
    blur_kernel: int = BLUR_KERNEL,
    pixel_size: int = PIXEL_SIZE,
    scale_with_face: bool = True,
) -> Redaction:
    """Redact each face on its aligned crop and blend it back; also says which faces were redacted by their box.

    The opaque core of the mask covers the whole face (grown by `grow`) and the `feather` fall-off
    lies outside it, so no original facial pixel shows through. Faces are redacted one after the
    other, each cropped from the already-redacted result. With `scale_with_face`, `blur_kernel` and
    `pixel_size` are those of faces of FULL_STRENGTH_FACE_PX and more, and grow for smaller ones.
    A face whose crop missed the middle of its box is redacted again by its box (see `coverage`).
    """
    if method not in REDACTION_METHODS:
        raise _unknown_method(method)

    def redact_each(result: np.ndarray, targets: Sequence[Face], grow: float) -> tuple[np.ndarray, np.ndarray]:
        union = np.zeros(result.shape[:2], np.float32)
        for face in targets:
            strength = redaction_strength(face.size) if scale_with_face else 1.0
            aligned = align_pixels(result, face, framing, size)
            redacted = redact_crop(
                aligned.image, method, framing=framing, blur_kernel=round(blur_kernel * strength),
                pixel_size=round(pixel_size * strength),
            )
            result, weight = paste_pixels(result, [aligned], [redacted], feather=feather, grow=grow)
            np.maximum(union, weight, out=union)
        return result, union

    faces = _face_list(faces)
    result, union = redact_each(as_array(image).copy(), faces, grow)  # checked once; the loop reuses it
    missed = uncovered_faces(faces, union)
    if missed:
        # At least the default grow: a mask shrunk into the face would miss it again.
        result, weight = redact_each(result, [box_face(faces[i]) for i in missed], max(grow, GROW))
        np.maximum(union, weight, out=union)
        still = [i for i in missed if uncovered_faces([faces[i]], union)]
        if still:  # the square around a box always covers its middle; fail rather than let a face through
            raise FaceAnonError(f"faces {still}: the redaction could not cover the middle of their boxes")
    if isinstance(image, np.ndarray) and image.ndim == 2:
        result = result[:, :, 0]
    return Redaction(result, union, missed)


def _face_list(faces) -> list[Face]:
    if isinstance(faces, Face):
        return [faces]
    if faces is None or isinstance(faces, (str, bytes)) or not hasattr(faces, "__iter__"):
        raise FaceAnonError(
            f"faces: expected a list of Face (e.g. from FaceDetector.detect), got {type(faces).__name__}"
        )
    faces = list(faces)
    wrong = sorted({type(face).__name__ for face in faces if not isinstance(face, Face)})
    if wrong:
        raise FaceAnonError(f"faces: expected Face objects (e.g. from FaceDetector.detect), got {', '.join(wrong)}")
    return faces


def _unknown_method(method: str) -> FaceAnonError:
    expected = ", ".join(REDACTION_METHODS)
    return FaceAnonError(f"unknown redaction method {method!r}; expected one of {expected}")
