# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reference capture and injection: routing, early exit, and the query-only speed-up's exactness."""

import pytest
import torch
from conftest import TINY_MODEL
from diffusers import UNet2DConditionModel

from faceanon.core.attention_processors import ConcatReferenceAttnProcessor, ReferenceAttnProcessor
from faceanon.core.loading import load_unet
from faceanon.core.reference_bank import ReferenceBank
from faceanon.core.sd21 import SD21_UNET_CONFIG
from faceanon.core.reference_routing import (
    consumed_state_keys,
    install_capture,
    install_injection,
    routed_state_key,
    run_referencenet,
    self_attention_layers,
)

def test_sd21_routing_uses_each_blocks_first_attention():
    with torch.device("meta"):
        unet = UNet2DConditionModel(**SD21_UNET_CONFIG)
    layers = self_attention_layers(unet)
    assert len(layers) == 16
    assert consumed_state_keys(unet) == [
        "down_blocks.0.attentions.0.transformer_blocks.0",
        "down_blocks.1.attentions.0.transformer_blocks.0",
        "down_blocks.2.attentions.0.transformer_blocks.0",
        "mid_block.attentions.0.transformer_blocks.0",
        "up_blocks.1.attentions.0.transformer_blocks.0",
        "up_blocks.2.attentions.0.transformer_blocks.0",
        "up_blocks.3.attentions.0.transformer_blocks.0",
    ]
    assert routed_state_key("up_blocks.2.attentions.2.transformer_blocks.0") == "up_blocks.2.attentions.0.transformer_blocks.0"
    assert routed_state_key("down_blocks.0.attentions.1.transformer_blocks.0") == "down_blocks.0.attentions.0.transformer_blocks.0"


def _states_by_full_pass(net, latents, embeds):
    """Every attn1 input of a complete forward pass, recorded with plain hooks."""
    seen = {}

    def recorder(name):
        def hook(module, args, kwargs):
            seen[name] = args[0] if args else kwargs["hidden_states"]

        return hook

    hooks = [
        module.attn1.register_forward_pre_hook(recorder(name), with_kwargs=True)
        for name, module in net.named_modules()
        if hasattr(module, "attn1")
    ]
    with torch.no_grad():
        net(latents, 0, encoder_hidden_states=embeds)
    for h in hooks:
        h.remove()
    return seen


def test_capture_stops_after_last_consumed_state_and_matches_full_pass():
    net = load_unet(f"{TINY_MODEL}/referencenet")
    keys = consumed_state_keys(net)
    recorder = install_capture(net, keys)
    late_calls = []
    net.conv_out.register_forward_hook(lambda *a: late_calls.append("conv_out"))
    net.up_blocks[-1].resnets[-1].register_forward_hook(lambda *a: late_calls.append("last resnet"))
    torch.manual_seed(0)
    latents, embeds = torch.randn(2, 4, 8, 8), torch.randn(2, 1, 8)
    full = _states_by_full_pass(load_unet(f"{TINY_MODEL}/referencenet"), latents, embeds)
    states = run_referencenet(net, recorder, latents, embeds)
    assert list(states) == keys
    assert late_calls == []
    for key in keys:
        torch.testing.assert_close(states[key], full[key], rtol=0, atol=0)


def _unet_output(unet, processor, bank, sample, context, t=500):
    install_injection(unet, bank, processor)
    with torch.no_grad():
        return unet(sample, t, encoder_hidden_states=context).sample


@pytest.mark.parametrize("guided", [True, False])
def test_query_only_attention_equals_concatenated_formulation(guided):
    unet = load_unet(f"{TINY_MODEL}/unet")
    keys = consumed_state_keys(unet)
    torch.manual_seed(1)
    images, rows = 2, 4 if guided else 2
    widths = {k: unet.get_submodule(k).attn1.to_q.in_features for k in keys}
    tokens = {"down_blocks.0.attentions.0.transformer_blocks.0": 64, "mid_block.attentions.0.transformer_blocks.0": 16, "up_blocks.1.attentions.0.transformer_blocks.0": 64}
    source = {k: torch.randn(rows, tokens[k], widths[k]) for k in keys}
    driving = {k: torch.randn(images, tokens[k], widths[k]) for k in keys}
    bank = ReferenceBank()
    bank.load(source, driving)
    sample, context = torch.randn(rows, 4, 8, 8), torch.randn(rows, 2, 8)
    plain = _unet_output(unet, ConcatReferenceAttnProcessor, bank, sample, context)
    bank.load(source, driving)
    fast = _unet_output(unet, ReferenceAttnProcessor, bank, sample, context)
    torch.testing.assert_close(fast, plain, rtol=0, atol=1e-5)
    assert (fast - plain).abs().max() < 1e-5


def test_query_only_attention_is_exact_at_sd21_widths():
    """One SD2.1-sized attention layer (320 channels, 5 heads, 32x32 tokens)."""
    from diffusers.models.attention_processor import Attention

    torch.manual_seed(0)
    attn = Attention(query_dim=320, heads=5, dim_head=64, upcast_attention=True)
    bank = ReferenceBank()
    bank.load({"k": torch.randn(2, 1024, 320)}, {"k": torch.randn(1, 1024, 320)})
    own = torch.randn(2, 1024, 320)
    with torch.no_grad():
        plain = ConcatReferenceAttnProcessor("layer", "k", bank)(attn, own)
        fast = ReferenceAttnProcessor("layer", "k", bank)(attn, own)
    assert plain.shape == fast.shape == own.shape
    assert (fast - plain).abs().max() < 1e-5


def test_bank_projects_reference_keys_once_per_generation():
    unet = load_unet(f"{TINY_MODEL}/unet")
    bank = ReferenceBank()
    install_injection(unet, bank)
    keys = consumed_state_keys(unet)
    widths = {k: unet.get_submodule(k).attn1.to_q.in_features for k in keys}
    tokens = {k: 64 if "mid" not in k else 16 for k in keys}
    bank.load({k: torch.randn(2, tokens[k], widths[k]) for k in keys}, {k: torch.randn(1, tokens[k], widths[k]) for k in keys})
    calls = []
    to_k = unet.down_blocks[0].attentions[0].transformer_blocks[0].attn1.to_k
    to_k.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    with torch.no_grad():
        for t in (900, 500, 100):
            unet(torch.randn(2, 4, 8, 8), t, encoder_hidden_states=torch.randn(2, 2, 8))
    # the source (2 rows) and driving (1 row) states once, then the UNet's own 2 rows at every step
    assert calls == [2, 1, 2, 2, 2]
