# SPDX-License-Identifier: AGPL-3.0-or-later
"""The UNet's cross-attention over its two context tokens, folded into per-head projections.

The context is two tokens, the source and the driving CLIP embeddings. A softmax over two keys is the
sigmoid of the difference of their logits, so for head h, with q = W_q x and keys/values k1, k2, v1, v2:

    attn2(x) = sum_h sigmoid(s q_h . (k1_h - k2_h)) W_out,h (v1_h - v2_h) + W_out v2 + b_out
             = sigmoid(x U + beta) A + c

where U (C x heads), beta, A (heads x C) and c depend on the context only. That replaces the N x C x C
query and output projections with N x C x heads ones. The result equals diffusers' attention up to float
rounding.
"""

from __future__ import annotations

import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0


def _is_plain(attn: Attention) -> bool:
    """No norms, residual or rescaling around the attention (true of every SD2.1 attention)."""
    return (
        attn.group_norm is None
        and attn.spatial_norm is None
        and attn.norm_cross is None
        and attn.norm_q is None
        and attn.norm_k is None
        and not attn.residual_connection
        and attn.rescale_output_factor == 1.0
    )


class TwoTokenCrossAttnProcessor:
    """``attn2`` for a two-token context; anything else goes to diffusers' ``AttnProcessor2_0``."""

    def __init__(self):
        self.fallback = AttnProcessor2_0()

    def __call__(
        self, attn: Attention, hidden_states, encoder_hidden_states=None, attention_mask=None, *args, **kwargs
    ):
        if (
            encoder_hidden_states is None
            or encoder_hidden_states.shape[1] != 2
            or attention_mask is not None
            or hidden_states.ndim != 3
            or not _is_plain(attn)
        ):
            return self.fallback(attn, hidden_states, encoder_hidden_states, attention_mask, *args, **kwargs)
        dtype = hidden_states.dtype
        heads = attn.heads
        batch = encoder_hidden_states.shape[0]
        key = attn.to_k(encoder_hidden_states).float().view(batch, 2, heads, -1)
        value = attn.to_v(encoder_hidden_states).float().view(batch, 2, heads, -1)
        key_gap, value_gap = key[:, 0] - key[:, 1], value[:, 0] - value[:, 1]

        query_weight = attn.to_q.weight.float().view(heads, -1, attn.to_q.in_features)
        logit_weight = attn.scale * torch.einsum("hdc,bhd->bch", query_weight, key_gap)
        logit_bias = torch.zeros(batch, heads, device=key.device)
        if attn.to_q.bias is not None:
            logit_bias = attn.scale * torch.einsum("hd,bhd->bh", attn.to_q.bias.float().view(heads, -1), key_gap)

        out_proj = attn.to_out[0]
        out_weight = out_proj.weight.float().view(out_proj.out_features, heads, -1)
        head_outputs = torch.einsum("ohd,bhd->bho", out_weight, value_gap)
        shared_output = out_proj(value[:, 1].flatten(1).to(out_proj.weight.dtype)).float()

        # In fp32, as SD2.1's upcast_attention asks. Both products are only N x C x heads, so fp32 costs
        # little here, and in bf16 it keeps this rewrite as accurate as the attention it replaces.
        logits = torch.baddbmm(logit_bias[:, None], hidden_states.float(), logit_weight)
        out = torch.baddbmm(shared_output[:, None], torch.sigmoid(logits), head_outputs)
        return attn.to_out[1](out.to(dtype))
