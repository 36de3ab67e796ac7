# SPDX-License-Identifier: AGPL-3.0-or-later
"""Turn the image types users hand us into one float tensor layout, and back."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..errors import FaceAnonError
from ..faces.image_io import check_pixel_values

ImageInput = Union[Image.Image, np.ndarray, torch.Tensor, Sequence["ImageInput"]]


def _hwc_from_array(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or not array.shape[0] or not array.shape[1]:
        raise FaceAnonError(f"{name}: expected an HxWx3 image array, got shape {tuple(array.shape)}")
    check_pixel_values(array, name)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return array[..., :3]


def _batch_from_tensor(tensor: torch.Tensor, name: str) -> torch.Tensor:
    if tensor.ndim == 3:
        tensor = tensor[None]
    if tensor.ndim != 4 or tensor.shape[-1] not in (1, 3, 4) or not tensor.shape[0] * tensor.shape[1] * tensor.shape[2]:
        raise FaceAnonError(f"{name}: expected a [B,H,W,3] image tensor in 0..1, got shape {tuple(tensor.shape)}")
    if tensor.shape[-1] == 1:
        tensor = tensor.expand(-1, -1, -1, 3)
    tensor = check_pixel_values(tensor[..., :3], name)
    if tensor.dtype == torch.uint8:
        return (tensor.float() / 255).permute(0, 3, 1, 2)
    return tensor.float().clamp(0, 1).permute(0, 3, 1, 2)


def _resize(image: np.ndarray | Image.Image | torch.Tensor, width: int, height: int) -> torch.Tensor:
    """One image -> [1, 3, height, width] float32 in 0..1.

    8-bit images are resized with PIL Lanczos, as the official pipeline does; float images keep their
    precision and use antialiased bicubic.
    """
    if isinstance(image, Image.Image):
        image = np.asarray(image.convert("RGB"))
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if image.shape[:2] != (height, width):
            image = np.asarray(Image.fromarray(image).resize((width, height), resample=Image.LANCZOS))
        return torch.from_numpy(image.astype(np.float32) / 255).permute(2, 0, 1)[None]
    if isinstance(image, np.ndarray):
        image = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    if tuple(image.shape[-2:]) != (height, width):
        image = F.interpolate(image, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return image.clamp(0, 1)


def _items(images: ImageInput, name: str) -> list:
    if isinstance(images, (list, tuple)):
        if not images:
            raise FaceAnonError(f"{name}: got an empty list of images")
        items = []
        for image in images:
            items.extend(_items(image, name))
        return items
    if isinstance(images, Image.Image):
        return [images]
    if isinstance(images, np.ndarray):
        if images.ndim == 4:
            if not len(images):
                raise FaceAnonError(f"{name}: got an empty batch of images")
            return [_hwc_from_array(image, name) for image in images]
        return [_hwc_from_array(images, name)]
    if isinstance(images, torch.Tensor):
        return list(_batch_from_tensor(images, name).split(1))
    raise FaceAnonError(
        f"{name}: expected a PIL image, an HxWx3 numpy array, a [B,H,W,3] tensor in 0..1 or a list of these, "
        f"got {type(images).__name__}"
    )


def to_image_batch(images: ImageInput, width: int, height: int, name: str = "image") -> torch.Tensor:
    """Any supported input -> [B, 3, height, width] float32 in 0..1 on the CPU."""
    # contiguous: a channels-last layout (from permuted HWC tensors) changes conv kernels' rounding
    return torch.cat([_resize(item, width, height) for item in _items(images, name)]).contiguous()


def to_hwc_numpy(images: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] -> float32 [B, H, W, 3]."""
    return images.permute(0, 2, 3, 1).float().cpu().numpy()
