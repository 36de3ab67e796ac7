# SPDX-License-Identifier: AGPL-3.0-or-later
"""Each speed-up outside the reference attention equals the plain formulation it replaces."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from conftest import TINY_MODEL
from diffusers.models.activations import GEGLU
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from diffusers.models.upsampling import Upsample2D
from faceanon.core import cpu_heap, subpixel_upsampling
from faceanon.core.cpu_heap import retained_cpu_heap
from faceanon.core.cross_attention import TwoTokenCrossAttnProcessor
from faceanon.core.loading import load_unet
from faceanon.core.split_geglu import SplitGEGLUForward, install_split_geglu
from faceanon.core.subpixel_upsampling import (
    SubpixelUpsampleForward,
    install_subpixel_upsampling,
    release_subpixel_kernels,
)


def _attention(channels, heads, **kwargs):
    torch.manual_seed(0)
    attn = Attention(channels, cross_attention_dim=1024, heads=heads, dim_head=64, upcast_attention=True, **kwargs)
    return attn.eval()


@pytest.mark.parametrize(("channels", "heads", "tokens"), [(320, 5, 1024), (1280, 20, 64)])
def test_two_token_cross_attention_equals_softmax_attention(channels, heads, tokens):
    attn = _attention(channels, heads)
    hidden = torch.randn(2, tokens, channels)
    context = torch.randn(2, 2, 1024)
    context[0, 0] = 0  # the unconditional row's null source embedding
    with torch.no_grad():
        expected = AttnProcessor2_0()(attn, hidden, context)
        folded = TwoTokenCrossAttnProcessor()(attn, hidden, context)
    assert folded.shape == expected.shape
    torch.testing.assert_close(folded, expected, atol=2e-6, rtol=1e-5)


def test_two_token_cross_attention_with_query_bias():
    attn = _attention(64, 1, bias=True)
    hidden, context = torch.randn(3, 40, 64), torch.randn(3, 2, 1024)
    with torch.no_grad():
        torch.testing.assert_close(
            TwoTokenCrossAttnProcessor()(attn, hidden, context),
            AttnProcessor2_0()(attn, hidden, context),
            atol=2e-6,
            rtol=1e-5,
        )


@pytest.mark.parametrize("context_tokens", [1, 3, 77])
def test_other_context_lengths_use_stock_attention(context_tokens):
    attn = _attention(64, 1)
    hidden, context = torch.randn(2, 16, 64), torch.randn(2, context_tokens, 1024)
    with torch.no_grad():
        folded = TwoTokenCrossAttnProcessor()(attn, hidden, context)
        assert torch.equal(folded, AttnProcessor2_0()(attn, hidden, context))


def _stock_then_rewritten(module, install, forward_type, *inputs):
    """The module's output before and after ``install``, which must rewrite it exactly once."""
    with torch.no_grad():
        expected = module(*inputs)
        assert install(module) == 1
        assert install(module) == 0, "installing twice must not wrap the rewrite"
        rewritten = module(*inputs)
    assert isinstance(module.forward, forward_type)
    return expected, rewritten


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32])
def test_split_geglu_equals_stock_geglu(dtype):
    torch.manual_seed(0)
    geglu = GEGLU(320, 1280).to(dtype)
    hidden = torch.randn(2, 300, 320, dtype=dtype)
    expected, split = _stock_then_rewritten(geglu, install_split_geglu, SplitGEGLUForward, hidden)
    assert split.dtype == dtype
    torch.testing.assert_close(split, expected, atol=1e-6 if dtype == torch.float32 else 1e-2, rtol=1e-5)
    assert set(geglu.state_dict()) == {"proj.weight", "proj.bias"}


glibc_only = pytest.mark.skipif(cpu_heap._LIBC is None, reason="heap retention needs Linux with glibc")


def _page_faults(fn) -> int:
    import resource  # POSIX only, like the heap retention itself

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _activation_like_work():
    """A chain of elementwise ops on 48 MB tensors: above glibc's largest mmap threshold, as a 512x512
    UNet's feed-forward activations are."""
    x = torch.ones(12 * 2**20)
    for _ in range(4):
        x = torch.nn.functional.gelu(x * 2) + x
    return x


def _fault_counts_outside_and_inside():
    outside = [_page_faults(_activation_like_work) for _ in range(2)]
    expected = _activation_like_work()
    with retained_cpu_heap("cpu"):
        inside = [_page_faults(_activation_like_work) for _ in range(6)]
        assert torch.equal(_activation_like_work(), expected)
    return outside, inside


@glibc_only
@pytest.mark.parametrize("thread", ["main", "worker"])  # ComfyUI runs prompts on a worker thread
def test_retained_heap_reuses_freed_pages(thread):
    if thread == "main":
        outside, inside = _fault_counts_outside_and_inside()
    else:
        with ThreadPoolExecutor(1) as pool:
            outside, inside = pool.submit(_fault_counts_outside_and_inside).result()
    pages_per_run = 12 * 4 * 2**20 // 4096 * 9  # nine 48 MB tensors are written per run
    assert min(outside) > pages_per_run // 2, outside
    settled = inside[2:]  # the heap takes a run or two to settle, and glibc still maps a block now and then
    assert sum(settled) / len(settled) < min(outside) / 4, inside


@glibc_only
def test_retained_heap_is_scoped_and_returns_memory():
    calls = []
    original = cpu_heap._set_thresholds
    cpu_heap._set_thresholds = lambda mmap, trim: calls.append((mmap, trim)) or original(mmap, trim)
    try:
        with retained_cpu_heap("cpu"), retained_cpu_heap("cpu"):
            assert len(calls) == 1, "nested scopes share one setting"
        assert len(calls) == 2
        assert calls[1][0] <= 32 * 2**20, "on leaving, large blocks are mapped (and unmapped) again"
    finally:
        cpu_heap._set_thresholds = original


def test_retained_heap_leaves_other_devices_alone():
    calls = []
    original = cpu_heap._set_thresholds
    cpu_heap._set_thresholds = lambda *args: calls.append(args)
    try:
        with retained_cpu_heap("meta"):
            pass
    finally:
        cpu_heap._set_thresholds = original
    assert calls == []


def _upsampler(channels, dtype=torch.float32):
    torch.manual_seed(0)
    return Upsample2D(channels, use_conv=True, out_channels=channels).to(dtype).eval()


@pytest.mark.parametrize(("channels", "height", "width"), [(64, 8, 8), (32, 5, 7), (16, 1, 1)])
def test_subpixel_upsampling_equals_nearest_upsample_then_conv(channels, height, width):
    upsampler = _upsampler(channels)
    hidden = torch.randn(2, channels, height, width)
    expected, subpixel = _stock_then_rewritten(upsampler, install_subpixel_upsampling, SubpixelUpsampleForward, hidden)
    assert subpixel.shape == (2, channels, 2 * height, 2 * width)
    torch.testing.assert_close(subpixel, expected, atol=2e-6, rtol=1e-5)
    assert set(upsampler.state_dict()) == {"conv.weight", "conv.bias"}, "the kernels stay out of the state dict"


def test_subpixel_upsampling_follows_weight_changes_dtype_and_odd_output_sizes():
    upsampler = _upsampler(16)
    install_subpixel_upsampling(upsampler)
    hidden = torch.randn(1, 16, 6, 6)
    with torch.inference_mode():  # as ComfyUI runs nodes: inference tensors have no version counter
        upsampler(hidden)
        upsampler.conv.weight.mul_(-2.0)  # an in-place patch between generations, as LoRA loaders do
        release_subpixel_kernels(upsampler)
        expected = Upsample2D.forward(upsampler, hidden)
        torch.testing.assert_close(upsampler(hidden), expected, atol=2e-6, rtol=1e-5)
        odd = upsampler(hidden, output_size=(11, 13))  # the UNet asks for this when sizes are not multiples of 8
        assert torch.equal(odd, Upsample2D.forward(upsampler, hidden, output_size=(11, 13)))
        upsampler.to(torch.bfloat16)
        half = upsampler(hidden.bfloat16())
    assert half.dtype == torch.bfloat16 and upsampler.forward.kernels().dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), expected, atol=0.1, rtol=0.05)


def test_each_generation_builds_the_subpixel_kernels_once_and_releases_them(pipeline, face_a, monkeypatch):
    unet = pipeline.models.unet
    forwards = [m.forward for m in unet.modules() if isinstance(m.__dict__.get("forward"), SubpixelUpsampleForward)]
    assert forwards, "the pipeline installs the subpixel upsampling in its UNet"
    built, build = [], subpixel_upsampling.phase_kernels
    monkeypatch.setattr(subpixel_upsampling, "phase_kernels", lambda weight: built.append(weight) or build(weight))
    for generation in (1, 2):
        pipeline(face_a, steps=3, width=64, height=64)
        assert len(built) == generation * len(forwards), "built at the first step only"
        assert all(forward._kernels is None for forward in forwards)


@pytest.mark.parametrize(
    ("install", "module_type"), [(install_split_geglu, GEGLU), (install_subpixel_upsampling, Upsample2D)]
)
def test_rewrite_in_a_whole_unet(install, module_type):
    unet = load_unet(f"{TINY_MODEL}/unet")
    torch.manual_seed(0)
    sample, context = torch.randn(2, 4, 8, 8), torch.randn(2, 2, unet.config.cross_attention_dim)
    with torch.no_grad():
        expected = unet(sample, 10, encoder_hidden_states=context).sample
        assert install(unet) == len([m for m in unet.modules() if isinstance(m, module_type)]) > 0
        rewritten = unet(sample, 10, encoder_hidden_states=context).sample
    torch.testing.assert_close(rewritten, expected, atol=1e-6, rtol=1e-5)
