# SPDX-License-Identifier: AGPL-3.0-or-later
"""Our CLIP preprocessing equals transformers' PIL-based CLIPImageProcessor, bit for bit."""

import numpy as np
import pytest
import torch

from faceanon.core.clip_preprocessing import clip_pixel_values

transformers = pytest.importorskip("transformers")
try:
    from transformers import CLIPImageProcessorPil as Processor
except ImportError:  # transformers 4: the slow processor is the PIL one
    from transformers import CLIPImageProcessor as Processor


@pytest.mark.parametrize("height, width", [(64, 64), (512, 512), (300, 200), (96, 160)])
def test_matches_transformers_pil_processor(rng, height, width):
    images = torch.from_numpy(rng.random((2, 3, height, width), dtype=np.float32))
    processor = Processor(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}, resample=3,
        image_mean=[0.48145466, 0.4578275, 0.40821073], image_std=[0.26862954, 0.26130258, 0.27577711],
    )
    expected = processor(images=list(images.numpy()), do_rescale=False, return_tensors="pt").pixel_values
    ours = clip_pixel_values(images)
    assert ours.shape == (2, 3, 224, 224) and ours.dtype == torch.float32
    assert torch.equal(ours, expected.float())


def test_truncates_rather_than_rounds():
    almost_one = torch.full((1, 3, 224, 224), 254.9 / 255)
    values = clip_pixel_values(almost_one)
    expected_red = (254 / 255 - 0.48145466) / 0.26862954
    assert abs(values[0, 0, 0, 0].item() - expected_red) < 1e-5
