"""FaceAnon core: Face Anonymization Made Simple (Kung et al., WACV 2025) on stock diffusers.

Works as a plain Python library; nothing here imports ComfyUI.
"""

from .blending import NullStateCache, push_past_null, scale_source_embeds
from .errors import FaceAnonError, ModelFileError
from .faces import Face, FaceDetector, StaticFaces, redact_faces
from .loading import FaceAnonModels, load_models
from .photos import Compositing, FaceSelection, FailClosed
from .pipeline import BlendedSource, FaceAnonPipeline
from .reference import Reference
from .schedulers import SCHEDULER_NAMES

__all__ = [
    "BlendedSource",
    "Compositing",
    "Face",
    "FaceDetector",
    "FaceSelection",
    "FailClosed",
    "StaticFaces",
    "redact_faces",
    "FaceAnonError",
    "FaceAnonModels",
    "FaceAnonPipeline",
    "ModelFileError",
    "NullStateCache",
    "Reference",
    "SCHEDULER_NAMES",
    "load_models",
    "push_past_null",
    "scale_source_embeds",
]
