# SPDX-License-Identifier: AGPL-3.0-or-later
"""Parity with the official implementation: the golden outputs it produced on a tiny random model.

Each case is compared stage by stage, so a failure names the stage that broke, then end to end.
"""

import functools
import json
import os

import numpy as np
import pytest
import torch
from conftest import GOLDEN, TINY_MODEL, golden_image

from faceanon.core import pipeline as pipeline_module
from faceanon.core.randomness import draw_normal, item_generators

ATOL = 1e-4
# bf16 against the official fp32 outputs, on the 0..1 image scale. Measured on these cases: max |diff|
# 0.018-0.035, mean 0.0018-0.0035 (README, "Precision"); the bounds leave room for other CPUs' kernels.
BF16_MAX, BF16_MEAN = 0.06, 0.006
MANIFEST = json.load(open(os.path.join(GOLDEN, "manifest.json")))
CASES = sorted(MANIFEST["cases"])


def _case(name):
    call = MANIFEST["cases"][name]["call"]
    image = lambda key: golden_image(os.path.splitext(os.path.basename(call[key]))[0])  # noqa: E731
    return call, image("source_image"), image("conditioning_image")


def _golden(name):
    case = MANIFEST["cases"][name]
    return np.load(os.path.join(GOLDEN, case["output"]["path"])), np.load(os.path.join(GOLDEN, case["intermediates"]["path"]))


def _close(actual, expected, what):
    actual = np.asarray(actual.detach().float().cpu() if isinstance(actual, torch.Tensor) else actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != golden {expected.shape}"
    diff = np.abs(actual.astype(np.float64) - expected).max()
    assert diff <= ATOL, f"{what}: max |diff| {diff:.3e} > {ATOL}"


@pytest.mark.parametrize("name", CASES)
def test_end_to_end_matches_official(pipeline, name):
    call, source, driving = _case(name)
    degree = call["anonymization_degree"]
    image = pipeline(
        driving,
        source=None if degree > 0 else source,
        degree=degree,
        guidance=call["guidance_scale"],
        steps=call["num_inference_steps"],
        seed=call["seed"],
        width=call["width"],
        height=call["height"],
    )
    _close(image, _golden(name)[0], "output image")


@pytest.fixture(scope="module")
def bf16_pipeline():
    from faceanon.core import FaceAnonPipeline

    return FaceAnonPipeline.from_pretrained(TINY_MODEL, device="cpu", dtype="bf16")


@pytest.mark.parametrize("name", CASES)
def test_bf16_stays_within_its_stated_tolerance_of_official(bf16_pipeline, name):
    call, source, driving = _case(name)
    degree = call["anonymization_degree"]
    image = bf16_pipeline(driving, source=None if degree > 0 else source, degree=degree,
                          guidance=call["guidance_scale"], steps=call["num_inference_steps"], seed=call["seed"],
                          width=call["width"], height=call["height"])
    diff = np.abs(np.asarray(image, np.float64) - _golden(name)[0])
    assert 0 < diff.max() <= BF16_MAX, f"max |diff| {diff.max():.4f}"
    assert diff.mean() <= BF16_MEAN, f"mean |diff| {diff.mean():.5f}"


@pytest.mark.parametrize("name", CASES)
def test_every_stage_matches_official(pipeline, name, monkeypatch):
    call, source, driving = _case(name)
    _, gold = _golden(name)
    degree, guidance = call["anonymization_degree"], call["guidance_scale"]
    size = (call["width"], call["height"])
    guided = guidance != 1

    driving_ref = pipeline.encode(driving, *size)
    source_ref = driving_ref if degree > 0 else pipeline.encode(source, *size)
    _close(source_ref.embeds[:, 0], gold["src.clip_pooler_output"], "source CLIP embedding")
    _close(driving_ref.embeds[:, 0], gold["drv.clip_pooler_output"], "driving CLIP embedding")
    for prefix, ref in (("src", source_ref), ("drv", driving_ref)):
        _close(ref.latent_mean, gold[f"{prefix}.vae_posterior_mean"], f"{prefix} posterior mean")
        _close(ref.latent_std, gold[f"{prefix}.vae_posterior_std"], f"{prefix} posterior std")

    generators = item_generators(call["seed"], 1)
    source_latents = source_ref.sample_latents(generators, pipeline.scaling_factor)
    driving_latents = driving_ref.sample_latents(generators, pipeline.scaling_factor)
    _close(source_latents, gold["src.refnet_sample"][-1:], "source ReferenceNet input latents")
    _close(driving_latents, gold["drv.refnet_sample"][:1], "driving ReferenceNet input latents")
    _close(draw_normal(generators, (4, 8, 8)), gold["init_latents"], "initial latents")

    blended = pipeline.blend(source_ref, degree)
    _close(blended.embeds, gold["src.refnet_encoder_hidden_states"][-1:], "Eq.1 source embedding")
    conditioning = pipeline.conditioning(blended, source_latents, driving_ref, driving_latents, guided)
    for key, state in conditioning.source_states.items():
        expected = gold[f"src.state.{key}"]
        _close(state, expected if guided else expected[-1:], f"source state {key}")
    for key, state in conditioning.driving_states.items():
        _close(state, gold[f"drv.state.{key}"][:1], f"driving state {key}")
    assert set(conditioning.source_states) == {k[len("src.state.") :] for k in gold.files if k.startswith("src.state.")}
    context = gold["unet.encoder_hidden_states"]
    _close(conditioning.context, context if guided else context[-1:], "UNet context")

    unet_outputs, step_latents = [], []
    hook = pipeline.models.unet.register_forward_hook(lambda m, i, o: unet_outputs.append(o[0].clone()))

    make_scheduler = pipeline_module.make_scheduler

    def recording_scheduler(*args):
        scheduler = make_scheduler(*args)
        step = scheduler.step

        @functools.wraps(step)
        def recorded_step(*a, **k):
            out = step(*a, **k)
            step_latents.append(out[0].clone())
            return out

        scheduler.step = recorded_step
        return scheduler

    monkeypatch.setattr(pipeline_module, "make_scheduler", recording_scheduler)
    try:
        pipeline.sample(blended, driving_ref, call["seed"], call["num_inference_steps"], guidance)
    finally:
        hook.remove()
    out0 = gold["unet.out_step0"]
    _close(unet_outputs[0], out0 if guided else out0[-1:], "first UNet output")
    _close(torch.stack(step_latents), gold["latents_after_step"], "latents after each step")
