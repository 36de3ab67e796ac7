# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon core: Face Anonymization Made Simple (Kung et al., WACV 2025) on stock diffusers.

Works as a plain Python library; nothing here imports ComfyUI. Names are imported on first use, so
the torch-free parts (``core.faces``, ``core.catalog``) load without torch and diffusers.
"""

import importlib

from . import moved
from .errors import FaceAnonError, ModelFileError

moved.install(__name__)

_LAZY_EXPORTS = {
    "BlendedSource": "model.pipeline",
    "FaceAnonPipeline": "model.pipeline",
    "Compositing": "engine.face_settings",
    "FaceSelection": "engine.face_settings",
    "FailClosed": "engine.face_settings",
    "Generation": "engine.face_settings",
    "PhotoSettings": "engine.photos",
    "Face": "faces",
    "FaceDetector": "faces",
    "StaticFaces": "faces",
    "redact_faces": "faces",
    "FaceAnonModels": "model.loading",
    "load_models": "model.loading",
    "NullStateCache": "model.blending",
    "push_past_null": "model.blending",
    "scale_source_embeds": "model.blending",
    "Reference": "model.reference",
    "SCHEDULER_NAMES": "model.schedulers",
    "IdentityVerifier": "engine.verification",
    "Recognizer": "engine.verification",
    "Verification": "engine.verified_faces",
    "VerificationPolicy": "engine.verified_faces",
    "report_json": "engine.face_report",
    "save_private_images": "engine.private_save",
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
