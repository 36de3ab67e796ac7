# SPDX-License-Identifier: AGPL-3.0-or-later
"""Recall-first detection: YuNet and CenterFace together, so that no face in a crowd is left untouched.

Neither model is good enough alone: YuNet at a low threshold finds nearly every face but also hands,
lamps and patterns; CenterFace is more precise but misses other faces. Here each scans the image at
the scales it needs (YuNet at full size, in tiles on large images, for 10-20 px faces; both at coarse
scales, with padded borders, for close-ups and faces cut by the border). A face both models see is
kept at low scores. Where one model's scan is doubtful about a face the other saw (small faces are at
the edge of CenterFace's scan), it takes a second look on a crop that shows the face at its best size,
and that answer counts. A face one model sees alone is kept when its score passes that model's own
recall threshold.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .centerface import CENTERFACE_PASSES, SIZE_MULTIPLE, CenterFaceNet
from .detections import Detections
from .face import Face
from .fusion import Candidate, Thresholds, drop_duplicates, fuse, kept, pair_up, with_second_looks
from .image_io import ImageLike, as_rgb_uint8
from .landmark_check import choose_alignment
from .landmark_refinement import face_roll
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
YUNET_TILING = Tiling(max_side=2048, overlap=128)
# Calibrated on the shared photos (bench/bench_detection.py): see the README's detection section.
RECALL_THRESHOLDS = Thresholds(
    yunet_alone=0.9, centerface_alone=0.5, yunet_paired=0.4, centerface_paired=0.3, yunet_look=0.4, centerface_look=0.3
)
NMS_IOU = 0.3
# Below this box side neither model tells a face from a pattern (the pairs found there on the shared photos
# are printed cut-outs), and nobody can be recognized from so few pixels.
MIN_FACE_PX = 8.0
RECALL_DESCRIPTION = (
    "YuNet and CenterFace together, for photos and crowds: faces from 10 px at 1080p, close-ups, faces cut by "
    "the border; ~1.2 s a 1080p photo on one core"
)
# Landmarks are refined (re-detected upright, ~60 ms a face) only on faces either model sees tilted by
# this much: upright faces gain nothing from it, and a crowd would take seconds.
REFINE_FROM_ROLL_DEG = 5.0


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
        floor = min(thresholds.yunet_paired, thresholds.yunet_look)
        self.yunet = FaceDetector(yunet_path, score_threshold=floor, models_dir=models_dir, refine_landmarks=False)
        path = Path(centerface_path) if centerface_path is not None else resolve_model_file("centerface", models_dir)
        self.centerface = CenterFaceNet(path)
        self.refine_landmarks = refine_landmarks

    def candidates(self, rgb: np.ndarray) -> list[Candidate]:
        """Every possible face, with what each model's scan of the whole image saw of it."""
        yunet = scan(rgb, self.yunet.window_candidates, YUNET_PASSES, tiling=YUNET_TILING)
        centerface = scan(rgb, self._centerface_window, CENTERFACE_PASSES, multiple=SIZE_MULTIPLE)
        return pair_up(yunet.suppressed(NMS_IOU), centerface.suppressed(NMS_IOU))

    def detect(self, image: ImageLike) -> list[Face]:
        """Faces in an RGB image (HxWx3 uint8 or float in [0, 1], or PIL), best score first."""
        rgb = as_rgb_uint8(image)

        def look_yunet(box):
            return second_look(rgb, box, self.yunet.window_candidates)

        def look_centerface(box):
            return second_look(rgb, box, self._centerface_window).suppressed(NMS_IOU)

        looked = [with_second_looks(c, self.thresholds, look_yunet, look_centerface) for c in self.candidates(rgb)]
        fused = [fuse(c, self.thresholds) for c in looked if kept(c, self.thresholds)]
        fused = drop_duplicates([f for f in fused if max(f.box[2:] - f.box[:2]) >= MIN_FACE_PX], NMS_IOU)
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if self.refine_landmarks else None
        return [self._face(face, bgr, rgb.shape[:2]) for face in fused]

    def _centerface_window(self, window: np.ndarray) -> Detections:
        return self.centerface.detect_window(window, self.thresholds.centerface_look)

    def _face(self, fused, bgr, shape) -> Face:
        landmarks, alignment = choose_alignment(fused.box, (fused.landmarks, fused.other_landmarks), shape)
        if bgr is not None and alignment == "landmarks" and self._tilted(landmarks, fused.other_landmarks):
            refined = self.yunet.refined_landmarks(bgr, landmarks, fused.box)
            landmarks, _ = choose_alignment(fused.box, (refined, landmarks), shape)
        return Face(box=fused.box, score=fused.score, landmarks=landmarks, found_by=fused.found_by,
                    alignment=alignment)

    @staticmethod
    def _tilted(landmarks, other_landmarks) -> bool:
        rolls = [face_roll(points) for points in (landmarks, other_landmarks) if points is not None]
        return max(abs(np.degrees(roll)) for roll in rolls) >= REFINE_FROM_ROLL_DEG
