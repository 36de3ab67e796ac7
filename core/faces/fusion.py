# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fusing the candidates of two detectors into one list of faces.

Two candidates whose boxes overlap are one face seen by both models: the evidence of both counts,
so each may score low. A face only one model sees needs a score that model rarely reaches on
anything else. Fused boxes are the score-weighted mean of the two (weighted box fusion); the
landmarks are those of the more confident model, confidence being a score over that model's own
threshold for faces seen alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detections import Detections
from .nms import box_iou

PAIR_IOU = 0.3  # two models' boxes of one face overlap at least this much (their box styles differ)
DUPLICATE_COVER = 0.6  # a box this much inside a better one is the same face seen off-centre


@dataclass(frozen=True)
class Thresholds:
    """A face seen by both models is kept when each score reaches its `paired` value; a face seen by
    one model alone when its score reaches that model's `alone` value. A face YuNet alone found with
    at least `yunet_second_look` (and CenterFace alone with at least `centerface_paired`) gets a
    second look by the other model."""

    yunet_alone: float
    centerface_alone: float
    yunet_paired: float
    centerface_paired: float
    yunet_second_look: float


@dataclass(frozen=True)
class Vote:
    """One candidate of one model: index into that model's Detections, or -1 when it did not see it."""

    yunet: int
    centerface: int


def pair_up(yunet: Detections, centerface: Detections) -> list[Vote]:
    """Match each candidate of one model to at most one of the other, best overlap first."""
    if len(yunet) and len(centerface):
        overlaps = np.stack([box_iou(box, centerface.boxes) for box in yunet.boxes])
    else:
        overlaps = np.zeros((len(yunet), len(centerface)))
    votes, used_y, used_c = [], set(), set()
    for flat in np.argsort(-overlaps, axis=None, kind="stable"):
        i, j = np.unravel_index(flat, overlaps.shape)
        if overlaps[i, j] < PAIR_IOU:
            break
        if i not in used_y and j not in used_c:
            votes.append(Vote(int(i), int(j)))
            used_y.add(i)
            used_c.add(j)
    votes += [Vote(i, -1) for i in range(len(yunet)) if i not in used_y]
    votes += [Vote(-1, j) for j in range(len(centerface)) if j not in used_c]
    return votes


def passes(vote: Vote, yunet: Detections, centerface: Detections, thresholds: Thresholds) -> bool:
    if vote.yunet >= 0 and vote.centerface >= 0:
        return (yunet.scores[vote.yunet] >= thresholds.yunet_paired
                and centerface.scores[vote.centerface] >= thresholds.centerface_paired)
    if vote.yunet >= 0:
        return yunet.scores[vote.yunet] >= thresholds.yunet_alone
    return centerface.scores[vote.centerface] >= thresholds.centerface_alone


@dataclass(frozen=True)
class FusedFace:
    box: np.ndarray
    score: float
    landmarks: np.ndarray  # of the more confident model
    found_by: str  # "yunet", "centerface" or "yunet+centerface"
    other_landmarks: np.ndarray | None  # of the other model, when both saw the face


def fuse(vote: Vote, yunet: Detections, centerface: Detections, thresholds: Thresholds) -> FusedFace:
    if vote.centerface < 0:
        i = vote.yunet
        return FusedFace(yunet.boxes[i], float(yunet.scores[i]), yunet.landmarks[i], "yunet", None)
    if vote.yunet < 0:
        j = vote.centerface
        return FusedFace(centerface.boxes[j], float(centerface.scores[j]), centerface.landmarks[j], "centerface", None)
    i, j = vote.yunet, vote.centerface
    y_score, c_score = float(yunet.scores[i]), float(centerface.scores[j])
    box = (y_score * yunet.boxes[i] + c_score * centerface.boxes[j]) / (y_score + c_score)
    score = 1.0 - (1.0 - y_score) * (1.0 - c_score)  # two independent witnesses
    landmarks, other = yunet.landmarks[i], centerface.landmarks[j]
    if c_score / thresholds.centerface_alone > y_score / thresholds.yunet_alone:
        landmarks, other = other, landmarks
    return FusedFace(box, score, landmarks, "yunet+centerface", other)


def drop_duplicates(faces: list[FusedFace], iou_threshold: float) -> list[FusedFace]:
    """Best score first; a face overlapping a kept one by more than `iou_threshold`, or lying mostly
    inside it (DUPLICATE_COVER), is the same face and is dropped."""
    kept: list[FusedFace] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if kept:
            boxes = np.stack([k.box for k in kept])
            if box_iou(face.box, boxes).max() > iou_threshold or _covered(face.box, boxes).max() > DUPLICATE_COVER:
                continue
        kept.append(face)
    return kept


def _covered(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """How much of the smaller of `box` and each of `boxes` lies inside the other."""
    ix0, iy0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    ix1, iy1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(np.minimum(area, areas), 1e-9)
