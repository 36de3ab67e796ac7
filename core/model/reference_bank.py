# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ReferenceNet states that the UNet attends to during one generation."""

from __future__ import annotations

import torch
from diffusers.models.attention_processor import Attention


class ReferenceBank:
    """Holds the source states (one row per UNet batch row) and the driving states (one row per image).

    The driving states are the same for both guidance halves, so they are stored once and repeated.
    Their key/value projections are computed once per generation per UNet layer, not once per step.
    """

    def __init__(self):
        self.source: dict[str, torch.Tensor] = {}
        self.driving: dict[str, torch.Tensor] = {}
        self.driving_repeats = 1
        self.upcast = False
        self._projected: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def load(self, source: dict[str, torch.Tensor], driving: dict[str, torch.Tensor]) -> None:
        first = next(iter(source))
        rows, images = source[first].shape[0], driving[first].shape[0]
        if rows % images:
            raise ValueError(f"{rows} source rows cannot be paired with {images} driving rows")
        self.source, self.driving, self.driving_repeats = source, driving, rows // images
        self._projected.clear()

    def clear(self) -> None:
        self.source, self.driving = {}, {}
        self._projected.clear()

    def reference_tokens(self, state_key: str) -> torch.Tensor:
        """[source; driving] along the token axis, one row per UNet batch row."""
        driving = self.driving[state_key].repeat(self.driving_repeats, 1, 1)
        return torch.cat([self.source[state_key], driving], dim=1)

    def projected_references(self, layer: str, state_key: str, attn: Attention) -> tuple[torch.Tensor, torch.Tensor]:
        if layer not in self._projected:
            dtype = attn.to_k.weight.dtype
            source, driving = self.source[state_key].to(dtype), self.driving[state_key].to(dtype)
            self._projected[layer] = tuple(
                torch.cat([project(source), project(driving).repeat(self.driving_repeats, 1, 1)], dim=1)
                for project in (attn.to_k, attn.to_v)
            )
        return self._projected[layer]
