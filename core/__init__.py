# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon core: Face Anonymization Made Simple (Kung et al., WACV 2025) on stock diffusers.

Works as a plain Python library; nothing here imports ComfyUI. Names are imported on first use, so
the torch-free parts (``core.faces``, ``core.download``) load without torch and diffusers.
"""

import importlib

from .errors import FaceAnonError, ModelFileError

_LAZY_EXPORTS = {
    "BlendedSource": "pipeline",
    "FaceAnonPipeline": "pipeline",
    "Compositing": "face_settings",
    "FaceSelection": "face_settings",
    "FailClosed": "face_settings",
    "Generation": "face_settings",
    "PhotoSettings": "photos",
    "Face": "faces",
    "FaceDetector": "faces",
    "StaticFaces": "faces",
    "redact_faces": "faces",
    "FaceAnonModels": "loading",
    "load_models": "loading",
    "NullStateCache": "blending",
    "push_past_null": "blending",
    "scale_source_embeds": "blending",
    "Reference": "reference",
    "SCHEDULER_NAMES": "schedulers",
    "IdentityVerifier": "verification",
    "Recognizer": "verification",
    "Verification": "verified_faces",
    "VerificationPolicy": "verified_faces",
    "report_json": "face_report",
    "save_private_images": "private_save",
}

__all__ = [
    "BlendedSource",
    "Compositing",
    "Face",
    "FaceAnonError",
    "FaceAnonModels",
    "FaceAnonPipeline",
    "FaceDetector",
    "FaceSelection",
    "FailClosed",
    "Generation",
    "IdentityVerifier",
    "ModelFileError",
    "NullStateCache",
    "PhotoSettings",
    "Recognizer",
    "Reference",
    "SCHEDULER_NAMES",
    "StaticFaces",
    "Verification",
    "VerificationPolicy",
    "load_models",
    "push_past_null",
    "redact_faces",
    "report_json",
    "save_private_images",
    "scale_source_embeds",
]


def __getattr__(name: str):
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
