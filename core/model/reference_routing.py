# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which ReferenceNet state feeds which UNet attention, and how the states are captured.

The published weights were trained with a routing quirk of the official code: every attention of a
UNet block consumes the state of that block's *first* attention. So the UNet's
``up_blocks.1.attentions.2.transformer_blocks.0`` reads the ReferenceNet's
``up_blocks.1.attentions.0.transformer_blocks.0``, and only 7 of SD2.1's 16 states are ever used.
"""

from __future__ import annotations

import re

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.attention_processor import AttnProcessor2_0

from ..speedups.cross_attention import TwoTokenCrossAttnProcessor
from .attention_processors import ReferenceAttnProcessor, ReferenceCaptureProcessor
from .state_recorder import CaptureComplete, StateRecorder  # noqa: F401 - also their home before 0.3

_ATTN1_SUFFIX = ".attn1.processor"


def routed_state_key(layer_name: str) -> str:
    """The ReferenceNet state (transformer block path) that a UNet attn1 layer consumes."""
    return re.sub(r"attentions\.\d+\.", "attentions.0.", layer_name)


def self_attention_layers(model: UNet2DConditionModel) -> list[str]:
    """Transformer block paths of every attn1, in forward order."""
    return [name[: -len(_ATTN1_SUFFIX)] for name in model.attn_processors if name.endswith(_ATTN1_SUFFIX)]


_FORWARD_ORDER = ("down_blocks.", "mid_block.", "up_blocks.")


def consumed_state_keys(unet: UNet2DConditionModel) -> list[str]:
    """The states the UNet reads, in forward order (diffusers lists the mid block after the up blocks)."""
    keys = dict.fromkeys(routed_state_key(layer) for layer in self_attention_layers(unet))
    return sorted(keys, key=lambda k: next(i for i, part in enumerate(_FORWARD_ORDER) if k.startswith(part)))


def install_capture(referencenet: UNet2DConditionModel, keys: list[str]) -> StateRecorder:
    recorder = StateRecorder(keys)
    wanted = set(keys)
    processors = {}
    for name in referencenet.attn_processors:
        layer = name[: -len(_ATTN1_SUFFIX)] if name.endswith(_ATTN1_SUFFIX) else None
        processors[name] = ReferenceCaptureProcessor(layer, recorder) if layer in wanted else AttnProcessor2_0()
    referencenet.set_attn_processor(processors)
    return recorder


def install_injection(
    unet: UNet2DConditionModel, bank, processor_class=ReferenceAttnProcessor, cross_attention_processor=TwoTokenCrossAttnProcessor
) -> None:
    processors = {}
    for name in unet.attn_processors:
        if name.endswith(_ATTN1_SUFFIX):
            layer = name[: -len(_ATTN1_SUFFIX)]
            processors[name] = processor_class(layer, routed_state_key(layer), bank)
        else:
            processors[name] = cross_attention_processor()
    unet.set_attn_processor(processors)


@torch.no_grad()
def run_referencenet(
    referencenet: UNet2DConditionModel, recorder: StateRecorder, latents: torch.Tensor, embeds: torch.Tensor
) -> dict[str, torch.Tensor]:
    """One pass at timestep 0, stopped right after the last consumed state."""
    try:
        referencenet(latents, 0, encoder_hidden_states=embeds, return_dict=False)
    except CaptureComplete:
        pass
    return recorder.take()
