# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon model loader node (with the optional, user-requested download)."""

from __future__ import annotations

import os

from ..core.catalog.download import download_models
from ..core.catalog.model_files import (
    DEFAULT_MODEL_NAME,
    DIFFUSION_NETS,
    component_records,
    diffusion_records,
    file_line,
    status_in_folder,
)
from ..core.errors import ModelFileError
from ..core.model.loading import load_models
from ..core.model.precision import DTYPES
from .comfy_encoders import check_clip_vision, check_vae
from .comfy_pipeline import ComfyFaceAnonPipeline
from .inputs import PRECISION
from .memory import auto_dtype, compute_device
from .paths import FOLDER_KEY, available_models, download_hint, model_path


class FaceAnonModelLoader:
    DESCRIPTION = (
        "Loads the Face Anonymization Made Simple model (UNet + source and driving ReferenceNets) from "
        "models/face_anon/<name>/, with its bundled CLIP ViT-L/14 image encoder and SD2.1 VAE unless you "
        "connect ComfyUI's own. Tick 'download' once to fetch missing weights from Hugging Face."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "load"
    RETURN_TYPES = ("FACEANON_MODEL",)
    RETURN_NAMES = ("model",)
    OUTPUT_TOOLTIPS = ("The FaceAnon model, for the encode, blend and sampler nodes.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model_name": (
                    available_models(),
                    {
                        "default": DEFAULT_MODEL_NAME,
                        "tooltip": f"A folder in models/{FOLDER_KEY} holding unet/, referencenet/ and "
                        f"conditioning_referencenet/ (from {component_records('unet')[1].source.repo}).",
                    },
                ),
                "precision": PRECISION,
                "download": (
                    "BOOLEAN",
                    {
                        "default": False,
                        "tooltip": "Download missing weights from Hugging Face (about 12 GB) into "
                        f"models/{FOLDER_KEY}/{DEFAULT_MODEL_NAME}. Nothing is ever downloaded unless this is on.",
                    },
                ),
            },
            "optional": {
                "vae": ("VAE", {"tooltip": "Optional SD2.1 (or SD1.5) VAE from VAELoader, used instead of vae/."}),
                "clip_vision": (
                    "CLIP_VISION",
                    {"tooltip": "Optional CLIP ViT-L/14 from CLIPVisionLoader, used instead of image_encoder/."},
                ),
            },
        }

    def load(self, model_name, precision, download, vae=None, clip_vision=None):
        folder = model_path(model_name)
        components = list(DIFFUSION_NETS)
        components += ["image_encoder"] if clip_vision is None else []
        components += ["vae"] if vae is None else []
        if download:
            download_models(folder, components)
        if not os.path.isdir(folder):
            planned = [status_in_folder(r, os.path.join(folder, r.folder)) for r in diffusion_records(components)]
            raise ModelFileError("\n".join([
                f"model_name: {folder!r} does not exist. Turn on 'download' to fetch these files, or put them there:",
                *(file_line(p) for p in planned),
            ]))
        device = compute_device()
        dtype = auto_dtype(device) if precision == "auto" else DTYPES[precision]
        if vae is not None:
            check_vae(vae)
        with download_hint():
            models = load_models(folder, dtype, with_image_encoder=clip_vision is None, with_vae=vae is None)
        if clip_vision is not None:
            check_clip_vision(clip_vision, models.unet.config.cross_attention_dim)
        return (ComfyFaceAnonPipeline(models, device, dtype, vae=vae, clip_vision=clip_vision, name=model_name),)
