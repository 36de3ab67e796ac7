# SPDX-License-Identifier: AGPL-3.0-or-later
"""Is an anonymized face still recognizable? Face-recognition similarity between original and output.

The default recognizer is SFace (OpenCV Zoo, `cv2.FaceRecognizerSF`): 128-d embeddings of 112x112
crops aligned on the detector's five landmarks, compared by cosine similarity. Any model with an
``embed(image, face)`` method (ArcFace, AdaFace, ...) can take its place (see `Recognizer`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Protocol, runtime_checkable

import cv2
import numpy as np

from ..catalog.model_files import SFACE, record, require, search_roots
from ..errors import ModelFileError, ModelFileMissingError
from ..faces import Detector, Face, FaceDetector, select_faces
from ..faces.image_io import ImageLike, as_rgb_uint8
from ..faces.nms import box_iou
from ..options import SIMILARITY_THRESHOLD

# OpenCV's SFace sample calls two faces the same person at cosine similarity >= 0.363 (its L2
# threshold is 1.128); the OpenCV Zoo evaluation on LFW puts the equal-error point there.
SFACE_COSINE_THRESHOLD = SIMILARITY_THRESHOLD.default  # OpenCV's SFace "same person" value
# The output face is the detection that overlaps the original box best, if at least this much.
MATCH_IOU = 0.3
# A face the detector only half believes in is still a face an attacker's detector may find, so the
# verifier looks for faces in the output more eagerly than the 0.9 used to pick faces to anonymize.
VERIFICATION_SCORE_THRESHOLD = 0.5


@runtime_checkable
class Recognizer(Protocol):
    """A face-recognition model: one identity embedding per face."""

    def embed(self, image: ImageLike, face: Face) -> np.ndarray: ...


class SFaceRecognizer:
    """SFace through `cv2.FaceRecognizerSF`; the model file is resolved like the detector's."""

    def __init__(self, model_path: str | os.PathLike | None = None, *, models_dir: str | os.PathLike | None = None):
        if model_path is None:
            model_path = require([record(SFACE.key)], search_roots(models_dir))[0]
        path = Path(model_path)
        if not path.is_file():
            raise ModelFileMissingError(f"SFace face recognizer model file not found: {path}")
        self.model_path = path
        # OpenCV 5's new DNN engine counts the int8bq model's unused graph inputs and FaceRecognizerSF.feature
        # then fails; the classic engine runs the same network (FaceRecognizerSF.feature's own preprocessing).
        engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
        try:
            self._net = cv2.FaceRecognizerSF.create(str(path), "")
            self._features = None if engine is None else cv2.dnn.readNetFromONNX(str(path), engine)
        except cv2.error as error:
            raise ModelFileError(f"could not load the SFace face recognizer from {path}: {error}") from None

    def embed(self, image: ImageLike, face: Face) -> np.ndarray:
        bgr = np.ascontiguousarray(as_rgb_uint8(image)[:, :, ::-1])
        aligned = self._net.alignCrop(bgr, yunet_row(face))
        if self._features is None:
            return np.asarray(self._net.feature(aligned), dtype=np.float32).reshape(-1)
        self._features.setInput(cv2.dnn.blobFromImage(aligned, 1.0, (112, 112), (0, 0, 0), True, False))
        return np.asarray(self._features.forward(), dtype=np.float32).reshape(-1)


def yunet_row(face: Face) -> np.ndarray:
    """The face as the 1x15 YuNet detection row (x, y, w, h, 5 landmarks, score) OpenCV expects."""
    x0, y0, _, _ = face.box
    row = [x0, y0, face.width, face.height, *face.landmarks.reshape(-1), face.score]
    return np.asarray(row, dtype=np.float32).reshape(1, 15)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


class IdentityVerifier:
    """Measures how much an output face still looks like the original person.

    `threshold` is the cosine similarity at or above which a face counts as recognizable; the default
    0.363 is OpenCV's "same person" threshold for SFace. Pass `recognizer` to use another model (then
    `model_path` is not used). The `detector` finds faces in outputs; by default YuNet, resolved like
    the recognizer and run with a low score threshold (see VERIFICATION_SCORE_THRESHOLD).
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        models_dir: str | os.PathLike | None = None,
        detector: Optional[Detector] = None,
        threshold: float = SFACE_COSINE_THRESHOLD,
        recognizer: Optional[Recognizer] = None,
    ) -> None:
        if not -1.0 <= float(threshold) <= 1.0:
            raise ValueError(f"threshold: expected a cosine similarity in -1..1, got {threshold}")
        self.recognizer = recognizer or SFaceRecognizer(model_path, models_dir=models_dir)
        self.detector = detector or FaceDetector(models_dir=models_dir, score_threshold=VERIFICATION_SCORE_THRESHOLD)
        self.threshold = float(threshold)

    def embed(self, image: ImageLike, face: Face) -> np.ndarray:
        """The (128,) identity embedding of `face` in `image` (length depends on the recognizer)."""
        return np.asarray(self.recognizer.embed(image, face), dtype=np.float32).reshape(-1)

    def is_recognizable(self, similarity: Optional[float]) -> bool:
        """No face found (None) is not recognizable; otherwise similarity >= threshold is."""
        return similarity is not None and similarity >= self.threshold

    def similarity(self, image_a: ImageLike, image_b: ImageLike) -> Optional[float]:
        """Cosine similarity of the largest face of each image; None when either has no face."""
        embeddings = []
        for image in (image_a, image_b):
            faces = select_faces(self.detector.detect(image), order="largest", max_faces=1)
            if not faces:
                return None
            embeddings.append(self.embed(image, faces[0]))
        return cosine_similarity(*embeddings)

    def compare(self, original_image: ImageLike, face: Face, output_image: ImageLike) -> Optional[float]:
        """Similarity between `face` in the original and the face at the same place in the output.

        None when the output has no face overlapping the original box (IoU >= 0.3): nothing there
        for a recognizer to work with, so the face is not recognizable (SFace finds up to ~0.45 between
        a face and a blank image, so such a place is not measured). Otherwise the higher of two measures,
        so that the re-detection's landmarks cannot hide a face: the re-detected face, and the output at
        the original detection's own landmarks, each against the original.
        """
        return self.compare_faces(original_image, [face], output_image)[0]

    def compare_faces(
        self,
        original_image: ImageLike,
        faces: Sequence[Face],
        output_image: ImageLike,
        *,
        embeddings: Optional[Sequence[np.ndarray]] = None,
    ) -> list[Optional[float]]:
        """`compare` for several faces of one image, detecting in the output once. `embeddings` are
        the faces' embeddings in the original when they are already known."""
        if embeddings is None:
            embeddings = [self.embed(original_image, face) for face in faces]
        found = self.detector.detect(output_image) if faces else []
        similarities = []
        for face, embedding in zip(faces, embeddings):
            match = best_match(face, found)
            if match is None:
                similarities.append(None)
                continue
            similarities.append(max(
                cosine_similarity(embedding, self.embed(output_image, match)),
                cosine_similarity(embedding, self.embed(output_image, face)),
            ))
        return similarities


def best_match(face: Face, candidates: Sequence[Face], min_iou: float = MATCH_IOU) -> Optional[Face]:
    """The candidate whose box overlaps `face`'s box most, if by at least `min_iou`."""
    if not candidates:
        return None
    overlaps = box_iou(np.asarray(face.box), np.asarray([c.box for c in candidates], dtype=np.float64))
    best = int(np.argmax(overlaps))
    return candidates[best] if overlaps[best] >= min_iou else None
