# SPDX-License-Identifier: AGPL-3.0-or-later
"""Attention processors that move ReferenceNet states into the UNet's self-attention.

They follow the shape of diffusers' ``AttnProcessor2_0`` and only ever replace ``attn1``. SD2.1's
attentions have no group norm, spatial norm, residual connection, q/k norms or mask, so those branches
are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from .state_recorder import StateRecorder

if TYPE_CHECKING:
    from .reference_bank import ReferenceBank


def scaled_dot_product(attn: Attention, query, key, value, upcast: bool = False) -> torch.Tensor:
    """Multi-head SDPA on projected (B, N, C) tensors, then the output projection."""
    batch, _, inner = query.shape
    head_dim = inner // attn.heads
    q, k, v = (t.view(batch, -1, attn.heads, head_dim).transpose(1, 2) for t in (query, key, value))
    dtype = q.dtype
    if upcast:
        q, k, v = q.float(), k.float(), v.float()
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0, is_causal=False)
    out = out.transpose(1, 2).reshape(batch, -1, inner).to(dtype)
    out = attn.to_out[0](out)
    return attn.to_out[1](out)


class ReferenceCaptureProcessor:
    """ReferenceNet ``attn1``: records its input (the block's norm1 output), then attends as usual."""

    def __init__(self, state_key: str, recorder: StateRecorder):
        self.state_key = state_key
        self.recorder = recorder
        self.attention = AttnProcessor2_0()

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        self.recorder.record(self.state_key, hidden_states)
        return self.attention(attn, hidden_states, encoder_hidden_states, attention_mask, **kwargs)


class ReferenceAttnProcessor:
    """UNet ``attn1``: queries from the UNet's own N tokens, keys and values over [own; source; driving].

    Equal to the official formulation, which attends over all 3N rows and keeps the first N, because
    softmax and every projection act per query row. The reference keys and values do not change between
    denoising steps, so the bank projects them once per generation.
    """

    def __init__(self, layer_name: str, state_key: str, bank: ReferenceBank):
        self.layer_name = layer_name
        self.state_key = state_key
        self.bank = bank

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        ref_key, ref_value = self.bank.projected_references(self.layer_name, self.state_key, attn)
        query = attn.to_q(hidden_states)
        key = torch.cat([attn.to_k(hidden_states), ref_key], dim=1)
        value = torch.cat([attn.to_v(hidden_states), ref_value], dim=1)
        return scaled_dot_product(attn, query, key, value, upcast=self.bank.upcast)


class ConcatReferenceAttnProcessor:
    """The official formulation, kept as the plain reference for tests and benchmarks: every one of the
    3N rows of [own; source; driving] is a query, and only the first N outputs are kept."""

    def __init__(self, layer_name: str, state_key: str, bank: ReferenceBank):
        self.layer_name = layer_name
        self.state_key = state_key
        self.bank = bank

    def __call__(self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, **kwargs):
        tokens = torch.cat([hidden_states, self.bank.reference_tokens(self.state_key).to(hidden_states.dtype)], dim=1)
        out = scaled_dot_product(attn, attn.to_q(tokens), attn.to_k(tokens), attn.to_v(tokens), self.bank.upcast)
        return out[:, : hidden_states.shape[1]]
