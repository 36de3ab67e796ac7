# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fusing the candidates of two detectors into one list of faces.

Two candidates whose boxes overlap are one face seen by both models: the evidence of both counts,
so each may score low. A face only one model sees needs a score that model rarely reaches on
anything else. Fused boxes are the score-weighted mean of the two (weighted box fusion); the
landmarks are those of the more confident model, confidence being a score over that model's own
threshold for faces seen alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .detections import Detections
from .nms import box_iou

PAIR_IOU = 0.3  # two models' boxes of one face overlap at least this much (their box styles differ)
DUPLICATE_COVER = 0.6  # a box this much inside a better one is the same face seen off-centre


@dataclass(frozen=True)
class Thresholds:
    """A face is kept when one model's score reaches its `alone` value, or when both reach their
    `paired` values. A model that saw a face with less than its `alone` score is asked again on a
    crop (a second look) when the other model's score reaches its `look` value; that answer replaces
    the doubtful one."""

    yunet_alone: float
    centerface_alone: float
    yunet_paired: float
    centerface_paired: float
    yunet_look: float
    centerface_look: float


@dataclass(frozen=True)
class Sighting:
    """One model's view of a face, in image pixels."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray


@dataclass(frozen=True)
class Candidate:
    """A possible face and what each model saw of it (None: not seen)."""

    yunet: Sighting | None
    centerface: Sighting | None

    @property
    def box(self) -> np.ndarray:
        return (self.yunet or self.centerface).box

    def scores(self) -> tuple[float, float]:
        return (self.yunet.score if self.yunet else 0.0, self.centerface.score if self.centerface else 0.0)


def sighting(found: Detections, index: int) -> Sighting:
    return Sighting(found.boxes[index], float(found.scores[index]), found.landmarks[index])


def pair_up(yunet: Detections, centerface: Detections) -> list[Candidate]:
    """Match each candidate of one model to at most one of the other, best overlap first."""
    if len(yunet) and len(centerface):
        overlaps = np.stack([box_iou(box, centerface.boxes) for box in yunet.boxes])
    else:
        overlaps = np.zeros((len(yunet), len(centerface)))
    candidates, used_y, used_c = [], set(), set()
    for flat in np.argsort(-overlaps, axis=None, kind="stable"):
        i, j = np.unravel_index(flat, overlaps.shape)
        if overlaps[i, j] < PAIR_IOU:
            break
        if i not in used_y and j not in used_c:
            candidates.append(Candidate(sighting(yunet, i), sighting(centerface, j)))
            used_y.add(i)
            used_c.add(j)
    candidates += [Candidate(sighting(yunet, i), None) for i in range(len(yunet)) if i not in used_y]
    candidates += [Candidate(None, sighting(centerface, j)) for j in range(len(centerface)) if j not in used_c]
    return candidates


def best_overlapping(box: np.ndarray, found: Detections) -> Sighting | None:
    """The best-scoring of `found` that overlaps `box` enough to be the same face."""
    if not len(found):
        return None
    overlapping = np.flatnonzero(box_iou(box, found.boxes) >= PAIR_IOU)
    if not len(overlapping):
        return None
    return sighting(found, int(overlapping[np.argmax(found.scores[overlapping])]))


def with_second_looks(candidate: Candidate, thresholds: Thresholds, look_yunet, look_centerface) -> Candidate:
    """`candidate` with each doubtful model's view replaced by its second look, where one is due.
    `look_yunet(box)` and `look_centerface(box)` return that model's Detections on a crop."""
    if confident(candidate, thresholds):
        return candidate
    yunet, centerface = candidate.scores()
    if centerface >= thresholds.centerface_look:
        candidate = replace(candidate, yunet=best_overlapping(candidate.box, look_yunet(candidate.box)))
    if yunet >= thresholds.yunet_look:
        candidate = replace(candidate, centerface=best_overlapping(candidate.box, look_centerface(candidate.box)))
    return candidate


def confident(candidate: Candidate, thresholds: Thresholds) -> bool:
    yunet, centerface = candidate.scores()
    return yunet >= thresholds.yunet_alone or centerface >= thresholds.centerface_alone


def kept(candidate: Candidate, thresholds: Thresholds) -> bool:
    yunet, centerface = candidate.scores()
    return confident(candidate, thresholds) or (
        yunet >= thresholds.yunet_paired and centerface >= thresholds.centerface_paired
    )


@dataclass(frozen=True)
class FusedFace:
    box: np.ndarray
    score: float
    landmarks: np.ndarray  # of the more confident model
    found_by: str  # "yunet", "centerface" or "yunet+centerface"
    other_landmarks: np.ndarray | None  # of the other model, when both saw the face


def fuse(candidate: Candidate, thresholds: Thresholds) -> FusedFace:
    y, c = candidate.yunet, candidate.centerface
    if c is None or y is None:
        alone = y or c
        return FusedFace(alone.box, alone.score, alone.landmarks, "yunet" if y else "centerface", None)
    box = (y.score * y.box + c.score * c.box) / (y.score + c.score)
    score = 1.0 - (1.0 - y.score) * (1.0 - c.score)  # two independent witnesses
    if c.score / thresholds.centerface_alone > y.score / thresholds.yunet_alone:
        return FusedFace(box, score, c.landmarks, "yunet+centerface", y.landmarks)
    return FusedFace(box, score, y.landmarks, "yunet+centerface", c.landmarks)


def drop_duplicates(faces: list[FusedFace], iou_threshold: float) -> list[FusedFace]:
    """Best score first; a face overlapping a kept one by more than `iou_threshold`, or lying mostly
    inside it (DUPLICATE_COVER), is the same face and is dropped."""
    kept_faces: list[FusedFace] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if kept_faces:
            boxes = np.stack([k.box for k in kept_faces])
            if box_iou(face.box, boxes).max() > iou_threshold or _covered(face.box, boxes).max() > DUPLICATE_COVER:
                continue
        kept_faces.append(face)
    return kept_faces


def _covered(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """How much of the smaller of `box` and each of `boxes` lies inside the other."""
    ix0, iy0 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    ix1, iy1 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(np.minimum(area, areas), 1e-9)
