# SPDX-License-Identifier: AGPL-3.0-or-later
"""In bf16 every exact speed-up stays as accurate as the plain formulation it replaces, run in bf16.

bf16 keeps 8 bits of mantissa, so no formulation equals fp32 there. The measure is the error against the plain
formulation in fp32: the speed-up's bf16 error may not exceed the plain bf16 error by more than SLACK.
"""

import torch
from conftest import TINY_MODEL
from diffusers.models.activations import GEGLU
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from diffusers.models.upsampling import Upsample2D

from faceanon.core.attention_processors import ConcatReferenceAttnProcessor, ReferenceAttnProcessor
from faceanon.core.cross_attention import TwoTokenCrossAttnProcessor
from faceanon.core.loading import load_unet
from faceanon.core.reference_bank import ReferenceBank
from faceanon.core.reference_routing import consumed_state_keys, install_injection
from faceanon.core.split_geglu import install_split_geglu
from faceanon.core.subpixel_upsampling import install_subpixel_upsampling

SLACK = 1.25  # the speed-up's RMS error may be at most 25% above the plain formulation's, both in bf16


def _rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).pow(2).mean().sqrt().item()


def assert_as_accurate_as_plain(fast_bf16, plain_bf16, exact_fp32):
    fast_error, plain_error = _rms(fast_bf16, exact_fp32), _rms(plain_bf16, exact_fp32)
    assert fast_bf16.dtype == torch.bfloat16, "the speed-up computes in the precision it was given"
    assert plain_error > 0, "bf16 must differ from fp32 somewhere, or this compares nothing"
    assert fast_error <= SLACK * plain_error, f"bf16 RMS error {fast_error:.3e} against plain bf16 {plain_error:.3e}"


def test_two_token_cross_attention_in_bf16():
    torch.manual_seed(0)
    attn = Attention(320, cross_attention_dim=1024, heads=5, dim_head=64, upcast_attention=True).eval()
    hidden, context = torch.randn(2, 1024, 320), torch.randn(2, 2, 1024)
    with torch.no_grad():
        exact = AttnProcessor2_0()(attn, hidden, context)
        attn.to(torch.bfloat16)
        hidden, context = hidden.bfloat16(), context.bfloat16()
        plain = AttnProcessor2_0()(attn, hidden, context)
        fast = TwoTokenCrossAttnProcessor()(attn, hidden, context)
    assert_as_accurate_as_plain(fast, plain, exact)


def test_query_only_reference_attention_in_bf16():
    torch.manual_seed(0)
    attn = Attention(query_dim=320, heads=5, dim_head=64, upcast_attention=True).eval()
    source, driving, own = torch.randn(2, 1024, 320), torch.randn(1, 1024, 320), torch.randn(2, 1024, 320)
    bank = ReferenceBank()
    with torch.no_grad():
        bank.load({"k": source}, {"k": driving})
        exact = ConcatReferenceAttnProcessor("layer", "k", bank)(attn, own)
        attn.to(torch.bfloat16)
        bank.load({"k": source.bfloat16()}, {"k": driving.bfloat16()})
        plain = ConcatReferenceAttnProcessor("layer", "k", bank)(attn, own.bfloat16())
        bank.load({"k": source.bfloat16()}, {"k": driving.bfloat16()})
        fast = ReferenceAttnProcessor("layer", "k", bank)(attn, own.bfloat16())
    assert_as_accurate_as_plain(fast, plain, exact)


def _module_in_both_precisions(build, install, hidden):
    """(exact fp32, plain bf16, rewritten bf16) outputs of a module."""
    torch.manual_seed(0)
    module = build().eval()
    with torch.no_grad():
        exact = module(hidden)
        module.to(torch.bfloat16)
        plain = module(hidden.bfloat16())
        assert install(module) == 1
        fast = module(hidden.bfloat16())
    return exact, plain, fast


def test_split_geglu_in_bf16():
    exact, plain, fast = _module_in_both_precisions(lambda: GEGLU(320, 1280), install_split_geglu,
                                                    torch.randn(2, 300, 320))
    assert_as_accurate_as_plain(fast, plain, exact)


def test_subpixel_upsampling_in_bf16():
    build = lambda: Upsample2D(320, use_conv=True, out_channels=320)  # noqa: E731
    exact, plain, fast = _module_in_both_precisions(build, install_subpixel_upsampling, torch.randn(1, 320, 16, 16))
    assert_as_accurate_as_plain(fast, plain, exact)


def _guided_unet_step(dtype, fast: bool) -> torch.Tensor:
    """One guided step of the tiny UNet with references, with every speed-up or none."""
    unet = load_unet(f"{TINY_MODEL}/unet").to(dtype)
    keys = consumed_state_keys(unet)
    generator = torch.Generator().manual_seed(3)
    widths = {k: unet.get_submodule(k).attn1.to_q.in_features for k in keys}
    tokens = {k: 64 if "mid_block" not in k else 16 for k in keys}
    source = {k: torch.randn(4, tokens[k], widths[k], generator=generator).to(dtype) for k in keys}
    driving = {k: torch.randn(2, tokens[k], widths[k], generator=generator).to(dtype) for k in keys}
    sample = torch.randn(4, 4, 8, 8, generator=generator).to(dtype)
    context = torch.randn(4, 2, unet.config.cross_attention_dim, generator=generator).to(dtype)
    bank = ReferenceBank()
    bank.load(source, driving)
    if fast:
        install_injection(unet, bank, ReferenceAttnProcessor, TwoTokenCrossAttnProcessor)
        install_split_geglu(unet)
        install_subpixel_upsampling(unet)
    else:
        install_injection(unet, bank, ConcatReferenceAttnProcessor, AttnProcessor2_0)
    with torch.no_grad():
        return unet(sample, 500, encoder_hidden_states=context).sample


def test_every_speed_up_together_in_a_whole_unet_step_in_bf16():
    exact = _guided_unet_step(torch.float32, fast=False)
    assert_as_accurate_as_plain(_guided_unet_step(torch.bfloat16, fast=True),
                                _guided_unet_step(torch.bfloat16, fast=False), exact)
