# SPDX-License-Identifier: AGPL-3.0-or-later
"""The official order of random draws, with one CPU generator per batch item.

Item i uses a generator seeded with seed + i and draws, in order: (1) the source VAE posterior sample,
(2) the driving VAE posterior sample, (3) the initial latents, (4) one noise tensor per sampler step.
For a single image this is the stream of ``torch.manual_seed(seed)`` that the official pipeline uses, and
item i of a batch equals a single run with seed + i. Draws happen on the CPU so every device agrees.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..errors import FaceAnonError
from .seeds import MAX_SEED, check_seed, offset_seed

__all__ = ["MAX_SEED", "draw_normal", "item_generators"]


def item_generators(seed: int | Sequence[int], batch: int) -> list[torch.Generator]:
    """One generator per item: seed + i (wrapped, see offset_seed), or the given per-item seeds."""
    if isinstance(seed, (list, tuple)):
        seeds = [check_seed(value) for value in seed]
    else:
        seeds = [offset_seed(check_seed(seed), i) for i in range(batch)]
    if len(seeds) != batch:
        raise FaceAnonError(f"seed: got {len(seeds)} seeds for {batch} images")
    return [torch.Generator("cpu").manual_seed(value) for value in seeds]


def draw_normal(generators: list[torch.Generator], shape: tuple[int, ...]) -> torch.Tensor:
    """One standard-normal tensor of ``shape`` per generator, stacked: [len(generators), *shape]."""
    return torch.cat([torch.randn((1, *shape), generator=g, dtype=torch.float32) for g in generators])
