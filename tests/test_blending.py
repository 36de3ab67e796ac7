# SPDX-License-Identifier: AGPL-3.0-or-later
"""Eq.1, Eq.2 and the null-state cache."""

import pytest
import torch

from faceanon.core import FaceAnonError, NullStateCache, push_past_null, scale_source_embeds
from faceanon.core.blending import check_degree


def test_eq1_scales_the_source_embedding_before_the_referencenet():
    embeds = torch.randn(3, 1, 8)
    torch.testing.assert_close(scale_source_embeds(embeds, 1.25), -0.25 * embeds)
    torch.testing.assert_close(scale_source_embeds(embeds, 1.0), torch.zeros_like(embeds))
    assert scale_source_embeds(embeds, 0.0) is embeds


def test_eq2_moves_conditional_states_past_the_null_states():
    conditional = {"a": torch.randn(2, 5, 4), "b": torch.randn(2, 3, 6)}
    null = {"a": torch.randn(1, 5, 4), "b": torch.randn(1, 3, 6)}
    pushed = push_past_null(conditional, null, 1.25)
    for key in conditional:
        torch.testing.assert_close(pushed[key], 1.25 * null[key] - 0.25 * conditional[key])
    at_null = push_past_null(conditional, null, 1.0)
    torch.testing.assert_close(at_null["a"], null["a"].expand(2, 5, 4))
    assert push_past_null(conditional, null, 0.0) is conditional


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_degree_must_be_finite_and_not_negative(bad):
    with pytest.raises(FaceAnonError, match="degree"):
        check_degree(bad)


def test_null_state_cache_computes_once_per_resolution_and_dtype():
    calls = []

    def compute(h, w, dtype, device):
        calls.append((h, w, dtype))
        return {"s": torch.full((1, h * w, 4), float(len(calls)), dtype=dtype)}

    cache = NullStateCache(compute)
    first = cache.get(8, 8, torch.float32, torch.device("cpu"))
    again = cache.get(8, 8, torch.float32, torch.device("cpu"))
    torch.testing.assert_close(first["s"], again["s"])
    cache.get(16, 8, torch.float32, torch.device("cpu"))
    cache.get(8, 8, torch.bfloat16, torch.device("cpu"))
    assert calls == [(8, 8, torch.float32), (16, 8, torch.float32), (8, 8, torch.bfloat16)]
    assert len(cache) == 3
