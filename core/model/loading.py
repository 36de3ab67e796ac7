# SPDX-License-Identifier: AGPL-3.0-or-later
"""Load the official weights, unchanged, into stock diffusers and transformers models."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors import SafetensorError
from safetensors.torch import load_file
from transformers import CLIPVisionConfig, CLIPVisionModel

from ..catalog.model_files import DIFFUSION_NETS, ModelFile, component_records, require_in_folders, source_links
from ..errors import ModelFileError
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


def _read_config(path: Path, config: ModelFile) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ModelFileError(f"Cannot read {str(path)!r} ({e}). Re-download it: {source_links(config)[0]}") from None


def _read_safetensors(path: Path, weights: ModelFile) -> dict[str, torch.Tensor]:
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(
            f"{str(path)!r} is not a readable safetensors file ({e}). It may be truncated or corrupt: re-download "
            f"it: {source_links(weights)[0]}"
        ) from None


def _config_beside(weights_path: Path) -> str:
    return str(Path(weights_path).with_name("config.json"))


def _unbuildable_config(weights_path: Path, weights: ModelFile, model_name: str, error: Exception) -> ModelFileError:
    return ModelFileError(
        f"{_config_beside(weights_path)!r} does not describe a {model_name} ({type(error).__name__}: {error}). "
        f"Re-download it: {source_links(weights)[0]}"
    )


def _load_into(model: torch.nn.Module, state_dict: dict, weights: ModelFile, path: Path, dtype: torch.dtype) -> None:
    state_dict = {k: v.to(dtype) for k, v in state_dict.items()}
    try:
        missing, unexpected = model.load_state_dict(state_dict, strict=False, assign=True)
    except RuntimeError as error:  # tensors whose shapes differ from what config.json describes
        mismatched = [line.strip() for line in str(error).splitlines() if "size mismatch" in line]
        raise ModelFileError(
            f"{str(path)!r} does not match {_config_beside(path)!r}: {len(mismatched)} tensors have other sizes "
            f"(e.g. {mismatched[0] if mismatched else error}). Use the config.json and weights of the same "
            f"{weights.title} from {weights.source.repo_folder!r}."
        ) from None
    if missing or unexpected:
        raise ModelFileError(
            f"{str(path)!r} does not match its config.json: missing {len(missing)} tensors (e.g. {missing[:3]}), "
            f"unexpected {len(unexpected)} (e.g. {unexpected[:3]}). Expected the {weights.title} "
            f"from {weights.source.repo_folder!r}."
        )


def _component_files(component: str, folder: str) -> tuple[dict, Path]:
    """The parsed config and the weights path of a component folder, after checking both files."""
    config, weights = component_records(component)
    config_path, weights_path = require_in_folders([(config, folder), (weights, folder)])
    return _read_config(config_path, config), weights_path


def _load_diffusers_model(model_class, component: str, config: dict, path: Path, dtype: torch.dtype):
    """Build the model from its config without initialising weights, then assign the safetensors ones."""
    weights = component_records(component)[1]
    state_dict = _read_safetensors(path, weights)
    try:
        with torch.device("meta"):
            model = model_class.from_config(config)
    except Exception as error:  # noqa: BLE001 - any value diffusers cannot build a model from
        raise _unbuildable_config(path, weights, model_class.__name__, error) from None
    _load_into(model, state_dict, weights, path, dtype)
    return model.eval().requires_grad_(False)


def load_unet(folder: str, component: str = "unet", dtype: torch.dtype = torch.float32) -> UNet2DConditionModel:
    """Load a UNet or ReferenceNet folder (both are stock SD2.1 UNets; only the class name differs)."""
    config, path = _component_files(component, folder)
    if config.get("_class_name", "UNet2DConditionModel") not in UNET_CLASS_NAMES:
        raise ModelFileError(
            f"{folder!r} holds a {config.get('_class_name')!r}, expected one of {UNET_CLASS_NAMES} "
            f"from {component_records(component)[1].source.repo_folder!r}."
        )
    return _load_diffusers_model(UNet2DConditionModel, component, config, path, dtype)


def load_vae(folder: str, dtype: torch.dtype = torch.float32) -> AutoencoderKL:
    config, path = _component_files("vae", folder)
    return _load_diffusers_model(AutoencoderKL, "vae", config, path, dtype)


def load_image_encoder(folder: str, dtype: torch.dtype = torch.float32) -> CLIPVisionModel:
    """Load CLIP's vision tower from a CLIPVisionModel folder or a full CLIP checkpoint folder."""
    _, path = _component_files("image_encoder", folder)
    weights = component_records("image_encoder")[1]
    state_dict = _read_safetensors(path, weights)
    prefix = "vision_model."
    if any(k.startswith(prefix) for k in state_dict):
        state_dict = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
    try:
        model = CLIPVisionModel(CLIPVisionConfig.from_pretrained(folder))
    except Exception as error:  # noqa: BLE001 - any value transformers cannot build a model from
        raise _unbuildable_config(path, weights, "CLIP vision model", error) from None
    # transformers 4 wraps the tower in .vision_model; transformers 5 does not.
    _load_into(getattr(model, "vision_model", model), state_dict, weights, path, dtype)
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
            f"vision tower of CLIP ViT-L/14 ({component_records('image_encoder')[1].source.repo!r})."
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
    folders = {component: os.path.join(model_dir, component) for component in DIFFUSION_NETS}
    if with_image_encoder:
        folders["image_encoder"] = image_encoder_path or os.path.join(model_dir, "image_encoder")
    if with_vae:
        folders["vae"] = vae_path or os.path.join(model_dir, "vae")
    # Every file is checked before anything loads, so one error lists all that is missing.
    require_in_folders([(r, folder) for component, folder in folders.items() for r in component_records(component)])
    unet = load_unet(folders["unet"], "unet", dtype)
    image_encoder = None
    if with_image_encoder:
        image_encoder = load_image_encoder(folders["image_encoder"], dtype)
        check_image_encoder_width(image_encoder.config.hidden_size, unet)
    return FaceAnonModels(
        unet=unet,
        source_referencenet=load_unet(folders["referencenet"], "referencenet", dtype),
        driving_referencenet=load_unet(folders["conditioning_referencenet"], "conditioning_referencenet", dtype),
        image_encoder=image_encoder,
        vae=load_vae(folders["vae"], dtype) if with_vae else None,
        scheduler_config=load_scheduler_config(model_dir),
    )
