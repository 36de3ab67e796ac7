# SPDX-License-Identifier: AGPL-3.0-or-later
"""CLIP ViT-L/14 preprocessing, written out so the result never depends on a transformers backend.

It reproduces the official pipeline exactly: the [0, 1] image is re-quantised to uint8 by truncation,
resized with PIL bicubic so its shortest side is 224, centre-cropped to 224, rescaled by 1/255 in float64
and normalised with CLIP's mean and std in float32.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

CLIP_SIZE = 224
CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def _shortest_side_size(width: int, height: int, size: int) -> tuple[int, int]:
    if width <= height:
        return size, int(size * height / width)
    return int(size * width / height), size


def preprocess_one(image_hwc: np.ndarray, size: int = CLIP_SIZE) -> np.ndarray:
    """float32 HWC in [0, 1] -> float32 CHW pixel values."""
    quantised = (image_hwc.astype(np.float64) * 255).astype(np.float32).astype(np.uint8)
    pil = Image.fromarray(quantised)
    pil = pil.resize(_shortest_side_size(pil.width, pil.height, size), resample=Image.BICUBIC)
    resized = np.asarray(pil)
    top, left = (resized.shape[0] - size) // 2, (resized.shape[1] - size) // 2
    cropped = resized[top : top + size, left : left + size]
    rescaled = (cropped.astype(np.float64) * (1 / 255)).astype(np.float32)
    return ((rescaled - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)


def clip_pixel_values(images: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] float in [0, 1] -> [B, 3, 224, 224] float32 CLIP input."""
    hwc = images.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    return torch.from_numpy(np.stack([preprocess_one(image) for image in hwc]))
