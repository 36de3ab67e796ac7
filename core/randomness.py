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

from .errors import FaceAnonError

MAX_SEED = 2**63 - 1


def item_generators(seed: int | Sequence[int], batch: int) -> list[torch.Generator]:
    """One generator per item: seed + i, or the given per-item seeds."""
    seeds = list(seed) if isinstance(seed, (list, tuple)) else [int(seed) + i for i in range(batch)]
    if len(seeds) != batch:
        raise FaceAnonError(f"seed: got {len(seeds)} seeds for {batch} images")
    for value in seeds:
        if isinstance(value, bool) or int(value) != value or not 0 <= value <= MAX_SEED:
            raise FaceAnonError(f"seed must be an integer in 0..{MAX_SEED}, got {value}")
    return [torch.Generator("cpu").manual_seed(int(value)) for value in seeds]


def draw_normal(generators: list[torch.Generator], shape: tuple[int, ...]) -> torch.Tensor:
    """One standard-normal tensor of ``shape`` per generator, stacked: [len(generators), *shape]."""
    return torch.cat([torch.randn((1, *shape), generator=g, dtype=torch.float32) for g in generators])
