# SPDX-License-Identifier: AGPL-3.0-or-later
"""YuNet face detection (OpenCV `FaceDetectorYN`), run at several scales."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelFileError
from .face import Face
from .image_io import ImageLike, as_rgb_uint8
from .landmark_refinement import refine_landmarks
from .model_files import ModelFileMissingError, resolve_detector_path
from .nms import nms

# YuNet finds faces of roughly 10 to 300 px. Running it with the image's long side at each of these
# sizes covers faces that fill a multi-megapixel portrait as well as small ones; small images are
# also enlarged (at most MAX_UPSCALE times), which lifts the scores of faces under ~40 px.
DEFAULT_LONG_SIDES = (1280, 640, 320)
MAX_UPSCALE = 2.0


class FaceDetector:
    """Finds faces with YuNet. `detect` returns them best score first.

    With `model_path=None` the model is looked up in `<models_dir>/detectors/` (see `model_files`),
    raising `ModelFileMissingError` with download instructions when it is not there.
    `score_threshold` 0.9 is OpenCV Zoo's default; with upscaled passes small real faces score above
    it while the likes of dog faces (~0.88) stay below. `refine_landmarks` re-detects each face
    upright, which fixes YuNet's under-estimated roll on tilted heads at ~20-150 ms a face.
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        score_threshold: float = 0.9,
        nms_threshold: float = 0.3,
        *,
        models_dir: str | os.PathLike | None = None,
        long_sides: tuple[int, ...] = DEFAULT_LONG_SIDES,
        refine_landmarks: bool = True,
        top_k: int = 5000,
    ) -> None:
        path = Path(model_path) if model_path is not None else resolve_detector_path(models_dir)
        if not path.is_file():
            raise ModelFileMissingError(f"YuNet face detector model file not found: {path}")
        if not long_sides:
            raise ValueError("long_sides must name at least one size")
        self.model_path = path
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.long_sides = tuple(int(s) for s in long_sides)
        self.refine_landmarks = bool(refine_landmarks)
        try:
            self._net = cv2.FaceDetectorYN.create(
                str(path), "", (320, 320), self.score_threshold, self.nms_threshold, int(top_k)
            )
        except cv2.error as error:
            raise ModelFileError(f"could not load the YuNet face detector from {path}: {error}") from None

    def detect(self, image: ImageLike) -> list[Face]:
        """Faces in an RGB image (HxWx3 uint8 or float in [0, 1], or PIL), best score first."""
        bgr = np.ascontiguousarray(as_rgb_uint8(image)[:, :, ::-1])
        found = np.concatenate([self._detect_at(bgr, scale) for scale in self._scales(bgr.shape[:2])])
        if not len(found):
            return []
        boxes = np.column_stack([found[:, :2], found[:, :2] + found[:, 2:4]])
        faces = []
        for i in nms(boxes, found[:, 14], self.nms_threshold):
            landmarks = found[i, 4:14].reshape(5, 2)
            if self.refine_landmarks:
                size = max(found[i, 2], found[i, 3])
                landmarks = refine_landmarks(self._detect_rows, bgr, landmarks, size)
            faces.append(Face(box=boxes[i], score=found[i, 14], landmarks=landmarks))
        return faces

    def _scales(self, shape: tuple[int, int]) -> list[float]:
        long_side = max(shape)
        scales = {min(MAX_UPSCALE, side / long_side) for side in self.long_sides}
        if long_side <= max(self.long_sides):
            scales.add(1.0)
        return sorted(scales, reverse=True)

    def _detect_at(self, bgr: np.ndarray, scale: float) -> np.ndarray:
        """YuNet rows (x, y, w, h, 5 landmarks, score) in full-image pixels."""
        height, width = bgr.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size == (width, height):
            resized = bgr
        else:
            interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
            resized = cv2.resize(bgr, size, interpolation=interpolation)
        rows = self._detect_rows(resized)
        rows[:, :14] *= np.array([width / size[0], height / size[1]] * 7)
        return rows

    def _detect_rows(self, bgr: np.ndarray) -> np.ndarray:
        self._net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._net.detect(bgr)
        return np.zeros((0, 15)) if rows is None else rows.astype(np.float64)
