# SPDX-License-Identifier: AGPL-3.0-or-later
"""In-the-wild face geometry: detection, selection, alignment, paste-back and redaction."""

from .alignment import AlignedFace, align_face, align_faces, crop_face
from .coverage import box_face, is_covered, uncovered_faces
from .face import Detector, Face
from .framing import (
    FRAMINGS,
    alignment_matrix,
    canonical_landmarks,
    ffhq_matrix,
    invert_affine,
    transform_points,
    umeyama,
    whole_face_matrix,
)
from .masks import face_ellipse, face_mask
from .model_files import (
    MODEL_FILES,
    MODELS_DIR_ENV,
    ModelDownloadError,
    ModelFile,
    ModelFileMissingError,
    default_models_dir,
    download_detector,
    download_model_file,
    download_recognizer,
    find_model_file,
    model_dir,
    resolve_detector_path,
    resolve_model_file,
    resolve_recognizer_path,
)
from .paste import face_regions, paste_faces
from .redaction import REDACTION_METHODS, Redaction, redact_crop, redact_faces, redact_faces_covered
from .selection import FACE_ORDERS, parse_face_indices, select_faces
from .static_faces import StaticFaces, landmarks_from_box
from .warp import warp_affine
from .yunet import DETECTION_MODES, DetectionMode, FaceDetector

__all__ = [
    "DETECTION_MODES",
    "DetectionMode",
    "FACE_ORDERS",
    "FRAMINGS",
    "MODELS_DIR_ENV",
    "MODEL_FILES",
    "REDACTION_METHODS",
    "AlignedFace",
    "Detector",
    "Face",
    "FaceDetector",
    "ModelDownloadError",
    "ModelFile",
    "ModelFileMissingError",
    "Redaction",
    "StaticFaces",
    "align_face",
    "align_faces",
    "alignment_matrix",
    "box_face",
    "canonical_landmarks",
    "crop_face",
    "default_models_dir",
    "download_detector",
    "download_model_file",
    "download_recognizer",
    "face_ellipse",
    "face_regions",
    "face_mask",
    "ffhq_matrix",
    "find_model_file",
    "invert_affine",
    "is_covered",
    "landmarks_from_box",
    "model_dir",
    "paste_faces",
    "parse_face_indices",
    "redact_crop",
    "redact_faces",
    "redact_faces_covered",
    "resolve_detector_path",
    "resolve_model_file",
    "resolve_recognizer_path",
    "select_faces",
    "transform_points",
    "uncovered_faces",
    "umeyama",
    "warp_affine",
    "whole_face_matrix",
]
