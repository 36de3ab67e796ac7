# SPDX-License-Identifier: AGPL-3.0-or-later
"""YuNet face detection (OpenCV `FaceDetectorYN`), run at several scales."""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..catalog.model_files import YUNET, record, require, search_roots
from ..errors import ModelFileError, ModelFileMissingError
from .detections import Detections
from .face import Face
from .image_io import ImageLike, as_rgb_uint8
from .landmark_refinement import refine_landmarks
from .nms import nms

_CACHED_INPUT_SIZES = 6  # the recall mode scans four sizes and looks again at a fifth


@dataclass(frozen=True)
class DetectionMode:
    """YuNet finds faces of roughly 10 to 300 px, so it runs with the image's long side at each of
    ``long_sides``; small images are also enlarged, at most ``max_upscale`` times, which lifts the scores
    of faces under ~40 px. The finest pass sets the smallest face found: at 1920x1080, ~15 px with a
    1280 pass, ~30 px with a 640 pass."""

    long_sides: tuple[int, ...]
    max_upscale: float
    refine_landmarks: bool
    description: str


YUNET_MODES = {
    "accurate": DetectionMode(
        (1280, 640, 320),
        2.0,
        True,
        "faces from 15 px at 1080p, small images enlarged, tilted faces re-detected upright",
    ),
    "fast": DetectionMode(
        (640, 320), 1.0, False, "faces from 30 px at 1080p, for video frames: ~40 ms a 1080p frame on one core"
    ),
}


class FaceDetector:
    """Finds faces with YuNet. `detect` returns them best score first.

    With `model_path=None` the model is looked up in `<models_dir>/detectors/` (see `core.model_files`),
    raising `ModelFileMissingError` with download instructions when it is not there.
    `score_threshold` 0.9 is OpenCV Zoo's default; with upscaled passes small real faces score above
    it while the likes of dog faces (~0.88) stay below. `mode` picks the passes and whether landmarks
    are refined (see YUNET_MODES; the "recall" mode is `ensemble.RecallDetector`); `long_sides` and
    `refine_landmarks` override it. Refinement re-detects each face upright, which fixes YuNet's
    under-estimated roll on tilted heads at ~60 ms a face on one core.
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        score_threshold: float = 0.9,
        nms_threshold: float = 0.3,
        *,
        models_dir: str | os.PathLike | None = None,
        mode: str = "accurate",
        long_sides: tuple[int, ...] | None = None,
        refine_landmarks: bool | None = None,
        top_k: int = 5000,
    ) -> None:
        if mode not in YUNET_MODES:
            raise ValueError(f"mode: expected one of {', '.join(YUNET_MODES)}, got {mode!r}")
        if model_path is None:
            model_path = require([record(YUNET.key)], search_roots(models_dir))[0]
        path = Path(model_path)
        if not path.is_file():
            raise ModelFileMissingError(f"YuNet face detector model file not found: {path}")
        defaults = YUNET_MODES[mode]
        long_sides = defaults.long_sides if long_sides is None else long_sides
        if not long_sides:
            raise ValueError("long_sides must name at least one size")
        self.model_path = path
        self.mode = mode
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.top_k = int(top_k)
        self.long_sides = tuple(int(s) for s in long_sides)
        self.refine_landmarks = defaults.refine_landmarks if refine_landmarks is None else bool(refine_landmarks)
        self.max_upscale = defaults.max_upscale
        self._nets: OrderedDict[tuple[int, int], cv2.FaceDetectorYN] = OrderedDict()
        self._crop_net = self._create_net((320, 320))

    def _create_net(self, size: tuple[int, int]) -> cv2.FaceDetectorYN:
        try:
            return cv2.FaceDetectorYN.create(
                str(self.model_path), "", size, self.score_threshold, self.nms_threshold, self.top_k
            )
        except cv2.error as error:
            raise ModelFileError(f"could not load the YuNet face detector from {self.model_path}: {error}") from None

    def _net_for(self, size: tuple[int, int]) -> cv2.FaceDetectorYN:
        """One network per input size: re-shaping a network costs as much as a small pass."""
        if size in self._nets:
            self._nets.move_to_end(size)
        else:
            self._nets[size] = self._create_net(size)
            if len(self._nets) > _CACHED_INPUT_SIZES:
                self._nets.popitem(last=False)
        return self._nets[size]

    def detect(self, image: ImageLike) -> list[Face]:
        """Faces in an RGB image (HxWx3 uint8 or float in [0, 1], or PIL), best score first."""
        rgb = as_rgb_uint8(image)
        found = np.concatenate([np.zeros((0, 15)), *self._detect_passes(rgb)])
        if not len(found):
            return []
        boxes = np.column_stack([found[:, :2], found[:, :2] + found[:, 2:4]])
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if self.refine_landmarks else None
        faces = []
        for i in nms(boxes, found[:, 14], self.nms_threshold):
            landmarks = found[i, 4:14].reshape(5, 2)
            if bgr is not None:
                landmarks = refine_landmarks(self._detect_crop_rows, bgr, landmarks, boxes[i])
            faces.append(Face(box=boxes[i], score=found[i, 14], landmarks=landmarks, found_by="yunet"))
        return faces

    def _scales(self, shape: tuple[int, int]) -> list[float]:
        long_side = max(shape)
        scales = {min(self.max_upscale, side / long_side) for side in self.long_sides}
        if long_side <= max(self.long_sides):
            scales.add(1.0)
        return sorted(scales, reverse=True)

    def _detect_passes(self, rgb: np.ndarray):
        """YuNet rows (x, y, w, h, 5 landmarks, score) in full-image pixels, one array per scale.

        Each reduced pass is resized from the previous one, and colours are swapped to BGR after resizing:
        both cost more than a small pass when done on a full-size frame."""
        height, width = rgb.shape[:2]
        source = rgb
        for scale in self._scales((height, width)):
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            if size == (width, height):
                resized = rgb
            elif scale > 1.0:
                resized = cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)
            else:
                resized = source = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
            _, rows = self._net_for(size).detect(cv2.cvtColor(resized, cv2.COLOR_RGB2BGR))
            if rows is not None:
                rows = rows.astype(np.float64)
                rows[:, :14] *= np.array([width / size[0], height / size[1]] * 7)
                yield rows

    def window_candidates(self, rgb: np.ndarray) -> Detections:
        """YuNet's faces (at or above the threshold, after its own NMS) in an RGB window, in its pixels."""
        _, rows = self._net_for((rgb.shape[1], rgb.shape[0])).detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return Detections.from_yunet_rows(rows)

    def refined_landmarks(self, bgr: np.ndarray, landmarks: np.ndarray, box) -> np.ndarray:
        """`landmarks` of the face in `box` re-detected on upright crops (see `landmark_refinement`), in `bgr`
        pixels; the detected ones where the refined ones would leave the box."""
        return refine_landmarks(self._detect_crop_rows, bgr, landmarks, box)

    def _detect_crop_rows(self, bgr: np.ndarray) -> np.ndarray:
        self._crop_net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._crop_net.detect(bgr)
        return np.zeros((0, 15)) if rows is None else rows.astype(np.float64)
