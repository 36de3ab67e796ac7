# SPDX-License-Identifier: AGPL-3.0-or-later
"""Behaviour of FaceAnonPipeline on the tiny model: modes, batching, randomness, schedulers, precision."""

import warnings

import numpy as np
import pytest
import torch

from faceanon.core import SCHEDULER_NAMES, FaceAnonError, FaceAnonPipeline
from conftest import TINY_MODEL

SMALL = dict(width=64, height=64, steps=3)


def _count_rows(module, store):
    return module.register_forward_pre_hook(lambda m, args: store.append(args[0].shape[0]))


def test_reruns_are_bit_identical(pipeline, face_a):
    first = pipeline(face_a, seed=7, **SMALL)
    second = pipeline(face_a, seed=7, **SMALL)
    assert first.dtype == np.float32 and first.shape == (1, 64, 64, 3)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, pipeline(face_a, seed=8, **SMALL))


def test_batch_item_equals_single_run_with_its_own_seed(pipeline, face_a, face_b):
    batch = pipeline([face_a, face_b], seed=10, **SMALL)
    alone_a = pipeline(face_a, seed=10, **SMALL)
    alone_b = pipeline(face_b, seed=11, **SMALL)
    np.testing.assert_allclose(batch[0], alone_a[0], atol=1e-5)
    np.testing.assert_allclose(batch[1], alone_b[0], atol=1e-5)
    reordered = pipeline([face_b, face_a], seed=10, **SMALL)
    np.testing.assert_allclose(reordered[0], pipeline(face_b, seed=10, **SMALL)[0], atol=1e-5)
    np.testing.assert_allclose(reordered[1], pipeline(face_a, seed=11, **SMALL)[0], atol=1e-5)


def test_swap_with_one_source_for_a_batch_of_targets(pipeline, face_a, face_b):
    batch = pipeline([face_b, face_b], source=face_a, degree=0, seed=3, **SMALL)
    single = pipeline(face_b, source=face_a, degree=0, seed=4, **SMALL)
    np.testing.assert_allclose(batch[1], single[0], atol=1e-5)
    assert not np.allclose(batch[0], batch[1])


def test_swap_depends_on_the_source_and_anonymize_ignores_it(pipeline, face_a, face_b):
    swap_a = pipeline(face_b, source=face_a, degree=0, seed=1, **SMALL)
    swap_b = pipeline(face_b, source=face_b, degree=0, seed=1, **SMALL)
    assert np.abs(swap_a - swap_b).max() > 1e-3
    plain = pipeline(face_b, degree=1.25, seed=1, **SMALL)
    with pytest.warns(UserWarning, match="source image is ignored"):
        with_source = pipeline(face_b, source=face_a, degree=1.25, seed=1, **SMALL)
    assert np.array_equal(plain, with_source)


def test_swap_needs_a_source(pipeline, face_a):
    with pytest.raises(FaceAnonError, match="source"):
        pipeline(face_a, degree=0, **SMALL)


def test_guidance_one_runs_a_single_branch(pipeline, face_a):
    rows = []
    hook = _count_rows(pipeline.models.unet, rows)
    try:
        pipeline(face_a, guidance=1.0, **SMALL)
        pipeline(face_a, guidance=4.0, **SMALL)
    finally:
        hook.remove()
    assert rows == [1, 1, 1, 2, 2, 2]


def test_encoders_and_driving_branch_run_once_per_image(pipeline, face_a, face_b):
    vae_rows, clip_rows, driving_rows = [], [], []
    hooks = [
        _count_rows(pipeline.models.vae.encoder, vae_rows),
        pipeline.models.image_encoder.register_forward_hook(
            lambda m, a, k, o: clip_rows.append(k["pixel_values"].shape[0]), with_kwargs=True
        ),
        _count_rows(pipeline.models.driving_referencenet, driving_rows),
    ]
    try:
        pipeline([face_a, face_b], degree=1.25, guidance=4.0, **SMALL)
    finally:
        for h in hooks:
            h.remove()
    assert vae_rows == [2] and clip_rows == [2] and driving_rows == [2]


def test_null_states_are_cached_per_resolution(pipeline, face_a):
    pipeline.null_states.clear()
    source_rows = []
    hook = _count_rows(pipeline.models.source_referencenet, source_rows)
    try:
        pipeline(face_a, **SMALL)
        pipeline(face_a, seed=5, **SMALL)
        pipeline(face_a, width=128, height=64, steps=1)
    finally:
        hook.remove()
    # conditional pass every run; the null pass only the first time at each resolution
    assert source_rows == [1, 1, 1, 1, 1]
    assert len(pipeline.null_states) == 2


@pytest.mark.parametrize("scheduler", SCHEDULER_NAMES)
def test_every_scheduler_runs(pipeline, face_a, scheduler):
    out = pipeline(face_a, scheduler=scheduler, seed=2, **SMALL)
    assert out.shape == (1, 64, 64, 3) and np.isfinite(out).all()
    assert 0 <= out.min() and out.max() <= 1


def test_callback_gets_every_step_and_can_interrupt(pipeline, face_a):
    seen = []
    pipeline(face_a, callback=lambda step, total, x0: seen.append((step, total, tuple(x0.shape))), **SMALL)
    assert seen == [(1, 3, (1, 4, 8, 8)), (2, 3, (1, 4, 8, 8)), (3, 3, (1, 4, 8, 8))]

    class Stop(Exception):
        pass

    def stop(step, total, x0):
        raise Stop

    with pytest.raises(Stop):
        pipeline(face_a, callback=stop, **SMALL)
    assert pipeline.bank.source == {}


def test_denoise_zero_returns_the_input_latents(pipeline, face_a):
    reference = pipeline.encode(face_a, 64, 64)
    init = torch.randn(1, 4, 8, 8)
    out = pipeline.sample(pipeline.blend(reference), reference, seed=1, steps=3, init_latents=init, denoise=0.0)
    assert torch.equal(out, init)


@pytest.mark.parametrize("scheduler", ["ddpm", "euler", "dpmpp_2m_karras"])
def test_noise_mask_keeps_latents_outside_it(pipeline, face_a, scheduler):
    reference = pipeline.encode(face_a, 64, 64)
    init = torch.randn(1, 4, 8, 8)
    mask = torch.zeros(1, 8, 8)
    mask[:, 2:6, 2:6] = 1
    out = pipeline.sample(
        pipeline.blend(reference), reference, seed=1, steps=4, scheduler=scheduler, init_latents=init, denoise=0.6, mask=mask
    )
    outside = mask[:, None].expand_as(out) == 0
    assert torch.equal(out[outside], init[outside])
    assert (out[~outside] - init[~outside]).abs().max() > 1e-3


def test_partial_denoise_stays_closer_to_the_input(pipeline, face_a):
    reference = pipeline.encode(face_a, 64, 64)
    init = reference.latent_mean * pipeline.scaling_factor
    blended = pipeline.blend(reference)
    light = pipeline.sample(blended, reference, seed=1, steps=4, init_latents=init, denoise=0.2)
    full = pipeline.sample(blended, reference, seed=1, steps=4, init_latents=init, denoise=1.0)
    assert (light - init).abs().mean() < (full - init).abs().mean()


def test_bf16_on_cpu_is_finite(face_a):
    pipe = FaceAnonPipeline.from_pretrained(TINY_MODEL, device="cpu", dtype="bf16")
    assert pipe.models.unet.dtype == torch.bfloat16
    out = pipe(face_a, **SMALL)
    assert np.isfinite(out).all() and out.dtype == np.float32


class _OverflowingUNet:
    """Wraps the UNet, posing as one in ``dtype``, and returns a NaN until the bank switches attention to
    fp32 (always, with ``always``: weights that hold NaN)."""

    def __init__(self, unet, bank, dtype=torch.float16, always=False):
        self.unet, self.bank, self.upcast_seen, self.always = unet, bank, [], always
        self.dtype, self.device, self.modules = dtype, unet.device, unet.modules

    def __call__(self, rows, *args, encoder_hidden_states, **kwargs):
        dtype = self.unet.dtype
        out = self.unet(rows.to(dtype), *args, encoder_hidden_states=encoder_hidden_states.to(dtype), **kwargs)
        self.upcast_seen.append(self.bank.upcast)
        if self.always or not self.bank.upcast:
            out[0][0, 0, 0, 0] = float("nan")
        return out


def test_non_finite_half_precision_output_is_recovered_by_upcasting(pipeline, face_a, monkeypatch):
    flaky = _OverflowingUNet(pipeline.denoiser.unet, pipeline.bank)
    monkeypatch.setattr(pipeline.denoiser, "unet", flaky)
    monkeypatch.setattr(pipeline.bank, "upcast", False)
    with pytest.warns(UserWarning, match="float16; recomputing with fp32 attention"):
        out = pipeline(face_a, **SMALL)
    assert np.isfinite(out).all()
    assert flaky.upcast_seen == [False, True, True, True]


def test_non_finite_fp32_output_blames_the_weights_not_half_precision(pipeline, face_a, monkeypatch):
    broken = _OverflowingUNet(pipeline.denoiser.unet, pipeline.bank, dtype=torch.float32, always=True)
    monkeypatch.setattr(pipeline.denoiser, "unet", broken)
    monkeypatch.setattr(pipeline.bank, "upcast", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "half precision" warning on the way
        with pytest.raises(FaceAnonError) as raised:
            pipeline(face_a, **SMALL)
    assert broken.upcast_seen == [False], "fp32 is not recomputed with fp32 attention: that cannot help"
    assert "weights" in str(raised.value) and "half" not in str(raised.value).replace("not a half-precision", "")
    assert "--dtype fp32" not in str(raised.value)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(steps=0), "steps"),
        (dict(steps=1000), "steps"),
        (dict(guidance=0.5), "guidance"),
        (dict(scheduler="magic"), "scheduler"),
        (dict(seed=-1), "seed"),
        (dict(width=60), "multiples of 8"),
    ],
)
def test_bad_arguments_name_the_input(pipeline, face_a, kwargs, message):
    with pytest.raises(FaceAnonError, match=message):
        pipeline(face_a, **{**SMALL, **kwargs})


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((64, 64, 2), np.uint8), "HxWx3"),
        (torch.zeros(1, 3, 64, 64), r"\[B,H,W,3\]"),
        (torch.full((1, 64, 64, 3), 2.0), "0..1"),
        ("face.png", "PIL image"),
    ],
)
def test_bad_images_name_the_input(pipeline, image, message):
    with pytest.raises(FaceAnonError, match=f"driving.*{message}"):
        pipeline(image, **SMALL)


def test_accepts_numpy_tensor_and_pil_alike(pipeline, face_a):
    array = np.asarray(face_a)
    tensor = torch.from_numpy(array.astype(np.float32) / 255)[None]
    from_pil = pipeline(face_a, seed=1, **SMALL)
    np.testing.assert_array_equal(pipeline(array, seed=1, **SMALL), from_pil)
    np.testing.assert_allclose(pipeline(tensor, seed=1, **SMALL), from_pil, atol=1e-6)
