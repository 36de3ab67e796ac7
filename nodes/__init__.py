"""ComfyUI adapters for FaceAnon. Nothing here downloads or loads weights at import time."""

from .custom_sampler import FaceAnonSamplerCustom
from .loader import FaceAnonModelLoader
from .one_click import FaceAnonAnonymize, FaceAnonSwap
from .paths import register_model_folder
from .reference_nodes import FaceAnonBlend, FaceAnonEncodeReference
from .sampler import FaceAnonSampler

NODE_CLASS_MAPPINGS = {
    "FaceAnonModelLoader": FaceAnonModelLoader,
    "FaceAnonEncodeReference": FaceAnonEncodeReference,
    "FaceAnonBlend": FaceAnonBlend,
    "FaceAnonSampler": FaceAnonSampler,
    "FaceAnonSamplerCustom": FaceAnonSamplerCustom,
    "FaceAnonAnonymize": FaceAnonAnonymize,
    "FaceAnonSwap": FaceAnonSwap,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "FaceAnonModelLoader": "FaceAnon Load Model",
    "FaceAnonEncodeReference": "FaceAnon Encode Reference",
    "FaceAnonBlend": "FaceAnon Blend (Anonymization Degree)",
    "FaceAnonSampler": "FaceAnon Sampler",
    "FaceAnonSamplerCustom": "FaceAnon Sampler (Custom)",
    "FaceAnonAnonymize": "FaceAnon Anonymize Faces (aligned)",
    "FaceAnonSwap": "FaceAnon Swap Face (aligned)",
}

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "register_model_folder"]
