# SPDX-License-Identifier: AGPL-3.0-or-later
"""Load the official weights, unchanged, into stock diffusers and transformers models."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Optional

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors import SafetensorError
from safetensors.torch import load_file
from transformers import CLIPVisionConfig, CLIPVisionModel

from .errors import ModelFileError
from .model_files import (
    DRIVING_REFERENCENET,
    IMAGE_ENCODER,
    SOURCE_REFERENCENET,
    UNET,
    VAE,
    Component,
    find_weights,
    read_config,
)
from .schedulers import SD21_SCHEDULER_CONFIG

UNET_CLASS_NAMES = ("UNet2DConditionModel", "ReferenceNetModel")


@dataclass
class FaceAnonModels:
    """The five networks of the method plus the scheduler configuration."""

    unet: UNet2DConditionModel
    source_referencenet: UNet2DConditionModel
    driving_referencenet: UNet2DConditionModel
    image_encoder: Optional[CLIPVisionModel]  # None when a front end brings its own
    vae: Optional[AutoencoderKL]
    scheduler_config: dict = field(default_factory=lambda: dict(SD21_SCHEDULER_CONFIG))

    @property
    def diffusion_nets(self) -> tuple[UNet2DConditionModel, ...]:
        return (self.unet, self.source_referencenet, self.driving_referencenet)


def _read_safetensors(component: Component, path: str) -> dict[str, torch.Tensor]:
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(
            f"{path!r} is not a readable safetensors file ({e}). It may be truncated or corrupt: re-download "
            f"{component.repo_file(os.path.basename(path))} from {component.repo!r}."
        ) from None


def _config_path(component: Component, weights_path: str) -> str:
    return os.path.join(os.path.dirname(weights_path), component.config_name)


def _load_into(model: torch.nn.Module, state_dict: dict, component: Component, path: str, dtype: torch.dtype) -> None:
    state_dict = {k: v.to(dtype) for k, v in state_dict.items()}
    try:
        missing, unexpected = model.load_state_dict(state_dict, strict=False, assign=True)
    except RuntimeError as error:  # tensors whose shapes differ from what config.json describes
        mismatched = [line.strip() for line in str(error).splitlines() if "size mismatch" in line]
        raise ModelFileError(
            f"{path!r} does not match {_config_path(component, path)!r}: {len(mismatched)} tensors have other "
            f"sizes (e.g. {mismatched[0] if mismatched else error}). Use the config.json and weights of the same "
            f"{component.folder} from {component.source!r}."
        ) from None
    if missing or unexpected:
        raise ModelFileError(
            f"{path!r} does not match its config.json: missing {len(missing)} tensors (e.g. {missing[:3]}), "
            f"unexpected {len(unexpected)} (e.g. {unexpected[:3]}). Expected the {component.folder} weights "
            f"from {component.source!r}."
        )


def _load_diffusers_model(model_class, component: Component, folder: str, config: dict, dtype: torch.dtype):
    """Build the model from its config without initialising weights, then assign the safetensors ones."""
    path = find_weights(component, folder)
    state_dict = _read_safetensors(component, path)
    try:
        with torch.device("meta"):
            model = model_class.from_config(config)
    except Exception as error:  # noqa: BLE001 - any value diffusers cannot build a model from
        raise ModelFileError(
            f"{_config_path(component, path)!r} does not describe a {model_class.__name__} ({type(error).__name__}: "
            f"{error}). Re-download it from {component.source!r}."
        ) from None
    _load_into(model, state_dict, component, path, dtype)
    return model.eval().requires_grad_(False)


def load_unet(folder: str, component: Component = UNET, dtype: torch.dtype = torch.float32) -> UNet2DConditionModel:
    """Load a UNet or ReferenceNet folder (both are stock SD2.1 UNets; only the class name differs)."""
    config = read_config(component, folder)
    if config.get("_class_name", "UNet2DConditionModel") not in UNET_CLASS_NAMES:
        raise ModelFileError(
            f"{folder!r} holds a {config.get('_class_name')!r}, expected one of {UNET_CLASS_NAMES} "
            f"from {component.source!r}."
        )
    return _load_diffusers_model(UNet2DConditionModel, component, folder, config, dtype)


def load_vae(folder: str, dtype: torch.dtype = torch.float32) -> AutoencoderKL:
    return _load_diffusers_model(AutoencoderKL, VAE, folder, read_config(VAE, folder), dtype)


def load_image_encoder(folder: str, dtype: torch.dtype = torch.float32) -> CLIPVisionModel:
    """Load CLIP's vision tower from a CLIPVisionModel folder or a full CLIP checkpoint folder."""
    read_config(IMAGE_ENCODER, folder)
    path = find_weights(IMAGE_ENCODER, folder)
    state_dict = _read_safetensors(IMAGE_ENCODER, path)
    prefix = "vision_model."
    if any(k.startswith(prefix) for k in state_dict):
        state_dict = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
    try:
        model = CLIPVisionModel(CLIPVisionConfig.from_pretrained(folder))
    except Exception as error:  # noqa: BLE001 - any value transformers cannot build a model from
        raise ModelFileError(
            f"{_config_path(IMAGE_ENCODER, path)!r} does not describe a CLIP vision model ({type(error).__name__}: "
            f"{error}). Re-download it from {IMAGE_ENCODER.source!r}."
        ) from None
    # transformers 4 wraps the tower in .vision_model; transformers 5 does not.
    _load_into(getattr(model, "vision_model", model), state_dict, IMAGE_ENCODER, path, dtype)
    return model.to(dtype).eval().requires_grad_(False)


def load_scheduler_config(model_dir: str) -> dict:
    """The folder's scheduler/scheduler_config.json if present, else the SD2.1 values built into core."""
    path = os.path.join(model_dir, "scheduler", "scheduler_config.json")
    if not os.path.isfile(path):
        return dict(SD21_SCHEDULER_CONFIG)
    with open(path, encoding="utf-8") as f:
        return {**SD21_SCHEDULER_CONFIG, **json.load(f)}


def check_image_encoder_width(width: int, unet: UNet2DConditionModel) -> None:
    expected = unet.config.cross_attention_dim
    if width != expected:
        raise ModelFileError(
            f"The image encoder's width is {width} but the UNet expects {expected}-d CLIP embeddings. Use the "
            f"vision tower of CLIP ViT-L/14 ({IMAGE_ENCODER.source!r})."
        )


def load_models(
    model_dir: str,
    dtype: torch.dtype = torch.float32,
    image_encoder_path: Optional[str] = None,
    vae_path: Optional[str] = None,
    with_image_encoder: bool = True,
    with_vae: bool = True,
) -> FaceAnonModels:
    """Load every component from the official Hugging Face layout, on the CPU.

    ``with_image_encoder``/``with_vae`` False skip those folders, for callers that bring their own.
    """
    if not os.path.isdir(model_dir):
        raise ModelFileError(
            f"Model folder {model_dir!r} not found. It must contain unet/, referencenet/ and "
            f"conditioning_referencenet/ from 'hkung/face-anon-simple'."
        )
    unet = load_unet(os.path.join(model_dir, UNET.folder), UNET, dtype)
    image_encoder = None
    if with_image_encoder:
        image_encoder = load_image_encoder(image_encoder_path or os.path.join(model_dir, IMAGE_ENCODER.folder), dtype)
        check_image_encoder_width(image_encoder.config.hidden_size, unet)
    return FaceAnonModels(
        unet=unet,
        source_referencenet=load_unet(os.path.join(model_dir, SOURCE_REFERENCENET.folder), SOURCE_REFERENCENET, dtype),
        driving_referencenet=load_unet(
            os.path.join(model_dir, DRIVING_REFERENCENET.folder), DRIVING_REFERENCENET, dtype
        ),
        image_encoder=image_encoder,
        vae=load_vae(vae_path or os.path.join(model_dir, VAE.folder), dtype) if with_vae else None,
        scheduler_config=load_scheduler_config(model_dir),
    )
