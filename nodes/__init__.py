# SPDX-License-Identifier: AGPL-3.0-or-later
"""ComfyUI adapters for FaceAnon. Nothing here downloads or loads weights at import time."""

from .custom_sampler import FaceAnonSamplerCustom
from .detector_loader import FaceAnonDetectorLoader
from .face_nodes import FaceAnonDetectFaces, FaceAnonPasteFaces, FaceAnonRedactFaces
from .loader import FaceAnonModelLoader
from .one_click import FaceAnonAnonymize, FaceAnonSwap
from .paths import register_model_folder
from .photo_nodes import FaceAnonAnonymizeFacesInImage, FaceAnonSwapFaceInImage
from .private_save import FaceAnonSaveImagePrivate
from .reference_nodes import FaceAnonBlend, FaceAnonEncodeReference
from .sampler import FaceAnonSampler
from .verifier_loader import FaceAnonVerifierLoader

NODE_CLASS_MAPPINGS = {
    "FaceAnonModelLoader": FaceAnonModelLoader,
    "FaceAnonEncodeReference": FaceAnonEncodeReference,
    "FaceAnonBlend": FaceAnonBlend,
    "FaceAnonSampler": FaceAnonSampler,
    "FaceAnonSamplerCustom": FaceAnonSamplerCustom,
    "FaceAnonAnonymize": FaceAnonAnonymize,
    "FaceAnonSwap": FaceAnonSwap,
    "FaceAnonDetectorLoader": FaceAnonDetectorLoader,
    "FaceAnonDetectFaces": FaceAnonDetectFaces,
    "FaceAnonPasteFaces": FaceAnonPasteFaces,
    "FaceAnonRedactFaces": FaceAnonRedactFaces,
    "FaceAnonAnonymizeFacesInImage": FaceAnonAnonymizeFacesInImage,
    "FaceAnonSwapFaceInImage": FaceAnonSwapFaceInImage,
    "FaceAnonVerifierLoader": FaceAnonVerifierLoader,
    "FaceAnonSaveImagePrivate": FaceAnonSaveImagePrivate,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "FaceAnonModelLoader": "FaceAnon Load Model",
    "FaceAnonEncodeReference": "FaceAnon Encode Reference",
    "FaceAnonBlend": "FaceAnon Blend (Anonymization Degree)",
    "FaceAnonSampler": "FaceAnon Sampler",
    "FaceAnonSamplerCustom": "FaceAnon Sampler (Custom)",
    "FaceAnonAnonymize": "FaceAnon Anonymize Faces (aligned)",
    "FaceAnonSwap": "FaceAnon Swap Face (aligned)",
    "FaceAnonDetectorLoader": "FaceAnon Load Face Detector",
    "FaceAnonDetectFaces": "FaceAnon Detect Faces",
    "FaceAnonPasteFaces": "FaceAnon Paste Faces",
    "FaceAnonRedactFaces": "FaceAnon Redact Faces",
    "FaceAnonAnonymizeFacesInImage": "FaceAnon Anonymize Faces in Image",
    "FaceAnonSwapFaceInImage": "FaceAnon Swap Face in Image",
    "FaceAnonVerifierLoader": "FaceAnon Load Identity Verifier",
    "FaceAnonSaveImagePrivate": "FaceAnon Save Image (Private)",
}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "register_model_folder"]
