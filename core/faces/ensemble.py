# SPDX-License-Identifier: AGPL-3.0-or-later
"""Recall-first detection: YuNet and CenterFace together, so that no face in a crowd is left untouched.

Neither model is good enough alone: YuNet at a low threshold finds nearly every face but also hands,
lamps and patterns; CenterFace is more precise but misses other faces. Here each scans the image at
the scales it needs (YuNet at full size, in tiles on large images, for 10-20 px faces; both at coarse
scales, with padded borders, for close-ups and faces cut by the border). A face both models see is
kept at low scores; a face one model sees alone gets a second look from the other model on a crop
scaled for it, and is kept alone only when its score passes that model's own recall threshold.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .centerface import SIZE_MULTIPLE, CenterFaceNet
from .detections import Detections
from .face import Face
from .fusion import Thresholds, drop_duplicates, fuse, pair_up, passes
from .image_io import ImageLike, as_rgb_uint8
from .landmark_check import box_landmarks_if_needed
from .model_files import resolve_model_file
from .scanning import ScanPass, Tiling, scan
from .second_look import second_look
from .yunet import FaceDetector

YUNET_PASSES = (
    ScanPass(1280, pad=0.02, min_scale=1.0, max_upscale=2.0),  # small faces: full size, small images enlarged
    ScanPass(640, pad=0.1),
    ScanPass(320, pad=0.25),
    ScanPass(160, pad=0.3),  # close-ups that overflow the frame
)
CENTERFACE_PASSES = (ScanPass(960, pad=0.05, max_upscale=2.0), ScanPass(320, pad=0.25))
YUNET_TILING = Tiling(max_side=2048, overlap=128)
# Calibrated on the shared photos (bench/bench_detection.py): see the README's detection section.
RECALL_THRESHOLDS = Thresholds(
    yunet_alone=0.9, centerface_alone=0.5, yunet_paired=0.4, centerface_paired=0.3, yunet_second_look=0.5
)
NMS_IOU = 0.3


class RecallDetector:
    """A `Detector` that fuses YuNet and CenterFace (mode "recall"), best score first.

    Model files default to `<models_dir>/detectors/` (YuNet: face_detection_yunet*.onnx, CenterFace:
    centerface*.onnx). Faces whose landmarks cannot align them (profiles, masks) get the landmarks
    of an upright face filling their box and `alignment="box"`, so they are still covered.
    """

    mode = "recall"

    def __init__(
        self,
        yunet_path: str | os.PathLike | None = None,
        centerface_path: str | os.PathLike | None = None,
        *,
        models_dir: str | os.PathLike | None = None,
        thresholds: Thresholds = RECALL_THRESHOLDS,
        refine_landmarks: bool = True,
    ) -> None:
        self.thresholds = thresholds
        self.yunet = FaceDetector(yunet_path, score_threshold=thresholds.yunet_paired, models_dir=models_dir,
                                  refine_landmarks=False)
        path = Path(centerface_path) if centerface_path is not None else resolve_model_file("centerface", models_dir)
        self.centerface = CenterFaceNet(path)
        self.refine_landmarks = refine_landmarks

    def candidates(self, rgb: np.ndarray) -> tuple[Detections, Detections]:
        """Each model's candidates over the whole image at its low (paired) threshold, suppressed."""
        yunet = scan(rgb, self.yunet.window_candidates, YUNET_PASSES, tiling=YUNET_TILING)
        centerface = scan(rgb, self._centerface_window, CENTERFACE_PASSES, multiple=SIZE_MULTIPLE)
        return yunet.suppressed(NMS_IOU), centerface.suppressed(NMS_IOU)

    def detect(self, image: ImageLike) -> list[Face]:
        """Faces in an RGB image (HxWx3 uint8 or float in [0, 1], or PIL), best score first."""
        rgb = as_rgb_uint8(image)
        yunet, centerface = self.candidates(rgb)
        yunet, centerface = self._look_again(rgb, yunet, centerface)
        votes = [v for v in pair_up(yunet, centerface) if passes(v, yunet, centerface, self.thresholds)]
        fused = drop_duplicates([fuse(v, yunet, centerface, self.thresholds) for v in votes], NMS_IOU)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if self.refine_landmarks else None
        return [self._face(face, bgr) for face in fused]

    def _centerface_window(self, window: np.ndarray) -> Detections:
        return self.centerface.detect_window(window, self.thresholds.centerface_paired)

    def _look_again(self, rgb, yunet: Detections, centerface: Detections) -> tuple[Detections, Detections]:
        """Candidates that one model found alone, and not surely, looked at by the other model."""
        more_yunet, more_centerface = [yunet], [centerface]
        for vote in pair_up(yunet, centerface):
            if vote.centerface < 0 and self.thresholds.yunet_second_look <= yunet.scores[vote.yunet] < self.thresholds.yunet_alone:
                more_centerface.append(second_look(rgb, yunet.boxes[vote.yunet], self._centerface_window)
                                       .suppressed(NMS_IOU))
            elif vote.yunet < 0 and centerface.scores[vote.centerface] < self.thresholds.centerface_alone:
                more_yunet.append(second_look(rgb, centerface.boxes[vote.centerface], self.yunet.window_candidates))
        return Detections.concatenate(more_yunet), Detections.concatenate(more_centerface)

    def _face(self, fused, bgr) -> Face:
        alternatives = () if fused.other_landmarks is None else (fused.other_landmarks,)
        landmarks, alignment = box_landmarks_if_needed(fused.box, fused.landmarks, alternatives)
        if bgr is not None and alignment == "landmarks":
            size = float(max(fused.box[2] - fused.box[0], fused.box[3] - fused.box[1]))
            refined = self.yunet.refined_landmarks(bgr, landmarks, size)
            landmarks, _ = box_landmarks_if_needed(fused.box, refined, (landmarks,))
        return Face(box=fused.box, score=fused.score, landmarks=landmarks, found_by=fused.found_by,
                    alignment=alignment)
