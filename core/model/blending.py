# SPDX-License-Identifier: AGPL-3.0-or-later
"""Anonymization as in the paper: push the source identity past the "no identity" null point.

Eq.1 scales the source CLIP embedding by (1 - d) before the source ReferenceNet runs; Eq.2 moves each
conditional state S_c to (1 - d) S_c + d S_null, where S_null are the source ReferenceNet's states for zero
latents and a zero embedding. d = 0 leaves the source as it is (face swapping); d = 1 removes it; d > 1
extrapolates past the null point. 1.2-1.3 is the recommended range, and above 1.5 faces become invalid.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..errors import FaceAnonError

States = dict[str, torch.Tensor]


def check_degree(degree: float) -> float:
    degree = float(degree)
    if not degree >= 0 or degree == float("inf"):
        raise FaceAnonError(f"degree must be a finite number >= 0 (1.2-1.3 recommended), got {degree}")
    return degree


def scale_source_embeds(embeds: torch.Tensor, degree: float) -> torch.Tensor:
    """Eq.1: the source embedding that goes into the source ReferenceNet and the UNet's context."""
    return (1 - degree) * embeds if degree > 0 else embeds


def push_past_null(conditional: States, null: States, degree: float) -> States:
    """Eq.2 on every consumed state. ``null`` has one row, broadcast over the batch."""
    if degree <= 0:
        return conditional
    return {key: (1 - degree) * state + degree * null[key] for key, state in conditional.items()}


class NullStateCache:
    """Source states for zero latents and a zero embedding: they depend only on the weights, the
    resolution and the dtype, so each is computed once per model."""

    def __init__(self, compute: Callable[[int, int, torch.dtype, torch.device], States]):
        self._compute = compute
        self._states: dict[tuple, States] = {}

    def get(self, latent_height: int, latent_width: int, dtype: torch.dtype, device: torch.device) -> States:
        key = (latent_height, latent_width, dtype, str(device))
        if key not in self._states:
            self._states[key] = self._compute(latent_height, latent_width, dtype, device)
        return {k: v.to(device) for k, v in self._states[key].items()}

    def clear(self) -> None:
        self._states.clear()

    def __len__(self) -> int:
        return len(self._states)
