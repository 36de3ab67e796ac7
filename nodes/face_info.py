# SPDX-License-Identifier: AGPL-3.0-or-later
"""FACEANON_FACES: the aligned faces of an IMAGE batch, with the image each one came from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core.engine.photos import FACE_SIZE
from ..core.errors import FaceAnonError
from ..core.faces import AlignedFace, face_regions, paste_faces


@dataclass
class FaceInfo:
    faces: list[list[AlignedFace]]  # per image of the batch

    @property
    def count(self) -> int:
        return sum(len(faces) for faces in self.faces)

    def crops(self) -> torch.Tensor:
        """All aligned crops as one IMAGE batch (a single black crop when there are none)."""
        crops = [face.image for faces in self.faces for face in faces]
        if not crops:
            return torch.zeros(1, FACE_SIZE, FACE_SIZE, 3)
        return torch.from_numpy(np.stack(crops)).float()

    def paste(self, images: list[np.ndarray], crops, feather: float, grow: float, color_match: bool):
        """Blend ``crops`` (one per face, in order) into ``images``; returns (images, masks) as tensors."""
        crops = [np.asarray(c, dtype=np.float32) for c in crops]
        if self.count and len(crops) != self.count:
            raise FaceAnonError(f"crops: got {len(crops)} crops for {self.count} faces; expected one per face")
        if len(images) != len(self.faces):
            raise FaceAnonError(f"image: got {len(images)} images, but the faces were found in {len(self.faces)}")
        out_images, out_masks, start = [], [], 0
        for image, faces in zip(images, self.faces):
            pasted, mask = paste_faces(image, faces, crops[start : start + len(faces)], feather=feather, grow=grow,
                                       color_match=color_match)
            start += len(faces)
            out_images.append(torch.from_numpy(np.ascontiguousarray(pasted)))
            out_masks.append(torch.from_numpy(mask))
        return torch.stack(out_images).float(), torch.stack(out_masks).float()

    def regions(self, images: list[np.ndarray], feather: float = 0.06, grow: float = 0.0) -> torch.Tensor:
        """MASK [B,H,W] of where each image's faces would be pasted."""
        masks = [face_regions(*image.shape[:2], faces, feather=feather, grow=grow)
                 for image, faces in zip(images, self.faces)]
        return torch.from_numpy(np.stack(masks)).float()

    def __repr__(self) -> str:
        return f"FaceInfo({self.count} faces in {len(self.faces)} images)"


def image_list(image: torch.Tensor) -> list[np.ndarray]:
    """IMAGE [B,H,W,C] -> float32 HxWx3 arrays."""
    return [np.ascontiguousarray(frame[..., :3].cpu().float().numpy()) for frame in image]


def mask_list(mask, batch: int) -> list:
    """MASK [B,H,W] or [H,W] -> one HxW array (or None) per image."""
    if mask is None:
        return [None] * batch
    mask = mask[None] if mask.ndim == 2 else mask
    if mask.shape[0] not in (1, batch):
        raise FaceAnonError(f"mask: got {mask.shape[0]} masks for {batch} images; expected 1 or {batch}")
    return [mask[min(i, mask.shape[0] - 1)].cpu().float().numpy() for i in range(batch)]
