# SPDX-License-Identifier: AGPL-3.0-or-later
"""In-the-wild face geometry: detection, selection, alignment, paste-back and redaction."""

from .alignment import AlignedFace, align_face, align_faces, crop_face
from .centerface import CenterFaceDetector
from .coverage import box_face, is_covered, uncovered_faces
from .detection_modes import DEFAULT_DETECTION_MODE, DETECTION_MODES, MODE_MODEL_FILES, load_detector
from .ensemble import RecallDetector
from .face import ALIGNMENTS, Detector, Face
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
from .review import review_overlay
from .selection import FACE_ORDERS, faces_left_out, parse_face_indices, select_faces
from .static_faces import StaticFaces, landmarks_from_box
from .warp import warp_affine
from .yunet import YUNET_MODES, DetectionMode, FaceDetector

__all__ = [
    "ALIGNMENTS",
    "DEFAULT_DETECTION_MODE",
    "DETECTION_MODES",
    "DetectionMode",
    "FACE_ORDERS",
    "FRAMINGS",
    "MODELS_DIR_ENV",
    "MODEL_FILES",
    "MODE_MODEL_FILES",
    "REDACTION_METHODS",
    "AlignedFace",
    "CenterFaceDetector",
    "Detector",
    "Face",
    "FaceDetector",
    "ModelDownloadError",
    "ModelFile",
    "ModelFileMissingError",
    "RecallDetector",
    "Redaction",
    "StaticFaces",
    "YUNET_MODES",
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
    "faces_left_out",
    "face_mask",
    "ffhq_matrix",
    "find_model_file",
    "invert_affine",
    "is_covered",
    "landmarks_from_box",
    "load_detector",
    "model_dir",
    "paste_faces",
    "parse_face_indices",
    "redact_crop",
    "redact_faces",
    "redact_faces_covered",
    "resolve_detector_path",
    "resolve_model_file",
    "resolve_recognizer_path",
    "review_overlay",
    "select_faces",
    "transform_points",
    "uncovered_faces",
    "umeyama",
    "warp_affine",
    "whole_face_matrix",
]
