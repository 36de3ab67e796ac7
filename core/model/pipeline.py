# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnonPipeline: anonymize or swap faces with the published weights, aligned crops or whole photos."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import torch

from ..engine.photos import Compositing, FaceSelection, FailClosed, PhotoSettings, process_photos  # noqa: F401
from ..errors import FaceAnonError
from ..faces import load_detector
from ..options import DEGREE, GUIDANCE, MAX_STEPS, SCHEDULER, STEPS  # noqa: F401 - MAX_STEPS: its old home
from ..speedups.split_geglu import install_split_geglu
from ..speedups.subpixel_upsampling import install_subpixel_upsampling
from ..speedups.vae_layout import use_vae_layout
from .blending import NullStateCache, check_degree, push_past_null, scale_source_embeds
from .devices import resolve_device
from .images import ImageInput, to_hwc_numpy, to_image_batch
from .loading import FaceAnonModels, load_models
from .placement import DirectPlacement
from .precision import resolve_dtype
from .randomness import draw_normal, item_generators
from .reference import Reference, encode_clip, encode_posterior
from .reference_bank import ReferenceBank
from .reference_routing import consumed_state_keys, install_capture, install_injection, run_referencenet
from .sampling import Conditioning, Denoiser, ProgressCallback
from .schedulers import make_scheduler
from .seeds import check_seed

DEFAULT_DEGREE = DEGREE.default
DEFAULT_GUIDANCE = GUIDANCE.default
DEFAULT_STEPS = STEPS.default
DEFAULT_SCHEDULER = SCHEDULER.default
DEFAULT_SIZE = 512
SD_LATENT_SCALE = 0.18215


@dataclass
class BlendedSource:
    """A source reference with its anonymization degree: the Eq.1 embedding is ready, and the Eq.2
    states are made from it once the seed has drawn the posterior sample."""

    reference: Reference
    degree: float
    embeds: torch.Tensor  # Eq.1-scaled [B, 1, C]


def _check_positive_int(value, name: str, maximum: int = 10_000) -> int:
    if isinstance(value, bool) or int(value) != value or not 1 <= value <= maximum:
        raise FaceAnonError(f"{name} must be a whole number in 1..{maximum}, got {value!r}")
    return int(value)


def _check_guidance(guidance: float) -> float:
    guidance = float(guidance)
    if not 1 <= guidance <= 100:
        raise FaceAnonError(f"guidance must be in 1..100 (4.0 recommended; 1 disables guidance), got {guidance}")
    return guidance


class FaceAnonPipeline:
    """Face anonymization (degree > 0) and face swapping (degree 0) on aligned face crops."""

    def __init__(self, models: FaceAnonModels, device=None, dtype=None, placement=None):
        self.models = models
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        for net in (*models.diffusion_nets, models.image_encoder, models.vae):
            if net is not None and net.dtype != self.dtype:
                net.to(dtype=self.dtype)
        self.placement = placement or DirectPlacement(self.device)
        self.vae_format = torch.contiguous_format if models.vae is None else use_vae_layout(models.vae, self.device)
        self.bank = ReferenceBank()
        state_keys = consumed_state_keys(models.unet)
        self.source_recorder = install_capture(models.source_referencenet, state_keys)
        self.driving_recorder = install_capture(models.driving_referencenet, state_keys)
        install_injection(models.unet, self.bank)
        for net in models.diffusion_nets:
            install_split_geglu(net)
        install_subpixel_upsampling(models.unet)  # the ReferenceNets run once: building its kernels costs more
        self.denoiser = Denoiser(models.unet, self.bank)
        self.null_states = NullStateCache(self._compute_null_states)

    @classmethod
    def from_pretrained(
        cls,
        path: str,
        device=None,
        dtype=None,
        image_encoder_path: Optional[str] = None,
        vae_path: Optional[str] = None,
        offload_referencenets: bool = False,
    ) -> "FaceAnonPipeline":
        """Load the official folder layout (see README) on ``device`` in ``dtype`` (auto when None)."""
        device = resolve_device(device)
        dtype = resolve_dtype(dtype, device)
        models = load_models(path, dtype, image_encoder_path=image_encoder_path, vae_path=vae_path)
        return cls(models, device, dtype, DirectPlacement(device, offload=offload_referencenets))

    @property
    def scaling_factor(self) -> float:
        vae = self.models.vae
        return float(vae.config.scaling_factor) if vae is not None else SD_LATENT_SCALE

    # -- encoders (overridden by front ends that bring their own VAE or CLIP) -----------------------
    def encode_posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[B, 3, H, W] in 0..1 -> the VAE posterior's unscaled mean and std (float32)."""
        self.placement.load(self.models.vae)
        return encode_posterior(self.models.vae, images.to(self.device).contiguous(memory_format=self.vae_format))

    def encode_clip(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in 0..1 -> [B, 1, C] unprojected pooled CLIP output (float32)."""
        self.placement.load(self.models.image_encoder)
        return encode_clip(self.models.image_encoder, images)

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Unscaled latents -> [B, 3, H, W] in -1..1 (unclamped)."""
        vae = self.models.vae
        self.placement.load(vae)
        latents = latents.to(self.device).contiguous(memory_format=self.vae_format)
        images = vae.decode(latents.to(vae.dtype), return_dict=False)[0]
        if not torch.isfinite(images).all() and vae.dtype != torch.float32:
            warnings.warn("Non-finite VAE output in half precision; decoding again in fp32.", stacklevel=2)
            images = vae.float().decode(latents.float(), return_dict=False)[0]
            vae.to(self.dtype)
        return images

    def encode(self, images: ImageInput, width: int = DEFAULT_SIZE, height: int = DEFAULT_SIZE, name="image") -> Reference:
        """VAE posterior + CLIP embedding of each image, resized to width x height."""
        if height % 8 or width % 8:
            raise FaceAnonError(f"{name}: width and height must be multiples of 8, got {width}x{height}")
        batch = to_image_batch(images, width, height, name)
        with torch.no_grad():
            mean, std = self.encode_posterior(batch)
            embeds = self.encode_clip(batch)
        return Reference(mean, std, embeds.float().to(mean.device))

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents -> [B, 3, H, W] float32 images in 0..1."""
        return (self.decode_latents(latents.float() / self.scaling_factor).float() / 2 + 0.5).clamp(0, 1)

    # -- references -------------------------------------------------------------------------------
    def blend(self, source: Reference, degree: float = DEFAULT_DEGREE) -> BlendedSource:
        """Eq.1 on the source embedding; the null states Eq.2 needs are computed (once per model) here."""
        degree = check_degree(degree)
        if degree > 0:
            self.null_states.get(*source.latent_size, self.dtype, self.device)
        return BlendedSource(source, degree, scale_source_embeds(source.embeds, degree))

    def _referencenet_states(self, net, recorder, latents, embeds) -> dict[str, torch.Tensor]:
        self.placement.load(net)
        return run_referencenet(net, recorder, latents.to(self.device, self.dtype), embeds.to(self.device, self.dtype))

    def _compute_null_states(self, height, width, dtype, device) -> dict[str, torch.Tensor]:
        channels = self.models.source_referencenet.config.in_channels
        width_c = self.models.source_referencenet.config.cross_attention_dim
        latents = torch.zeros(1, channels, height, width)
        return self._referencenet_states(
            self.models.source_referencenet, self.source_recorder, latents, torch.zeros(1, 1, width_c)
        )

    def conditioning(
        self,
        source: BlendedSource,
        source_latents: torch.Tensor,
        driving: Reference,
        driving_latents: torch.Tensor,
        guided: bool,
    ) -> Conditioning:
        """Source (Eq.1/Eq.2) and driving states for one generation of B images."""
        batch = driving.batch
        embeds = source.embeds.expand(batch, *source.embeds.shape[1:])
        source_states = self._referencenet_states(
            self.models.source_referencenet, self.source_recorder, source_latents, embeds
        )
        driving_states = self._referencenet_states(
            self.models.driving_referencenet, self.driving_recorder, driving_latents, driving.embeds
        )
        context_source = embeds
        if guided or source.degree > 0:
            null = self.null_states.get(*driving.latent_size, self.dtype, self.device)
            source_states = push_past_null(source_states, null, source.degree)
            if guided:
                source_states = {k: torch.cat([null[k].expand_as(s), s]) for k, s in source_states.items()}
                context_source = torch.cat([torch.zeros_like(embeds), embeds])
        self.placement.offload(self.models.source_referencenet, self.models.driving_referencenet)
        driving_embeds = driving.embeds.repeat(2 if guided else 1, 1, 1)
        context = torch.cat([context_source, driving_embeds], dim=1)
        return Conditioning(source_states, driving_states, context, guided)

    def prepare(
        self, source: BlendedSource, driving: Reference, seed: int, guided: bool
    ) -> tuple[Conditioning, list[torch.Generator], torch.Tensor]:
        """Draw the posterior samples and initial noise in the official order and build the conditioning.

        Returns the conditioning, the per-item generators (for the sampler's noise) and the unit noise.
        """
        batch = driving.batch
        source_reference = source.reference.expand(batch, "source")
        if source_reference.latent_size != driving.latent_size:
            raise FaceAnonError(
                f"source and driving images must have the same size, got latents {source_reference.latent_size} "
                f"and {driving.latent_size}"
            )
        generators = item_generators(seed, batch)
        source_latents = source_reference.sample_latents(generators, self.scaling_factor)
        driving_latents = driving.sample_latents(generators, self.scaling_factor)
        noise = draw_normal(generators, (4, *driving.latent_size)).to(self.device)
        blended = BlendedSource(source_reference, source.degree, source.embeds)
        conditioning = self.conditioning(blended, source_latents, driving, driving_latents, guided)
        return conditioning, generators, noise

    # -- sampling ---------------------------------------------------------------------------------
    def sample(
        self,
        source: BlendedSource,
        driving: Reference,
        seed: int = 0,
        steps: int = DEFAULT_STEPS,
        guidance: float = DEFAULT_GUIDANCE,
        scheduler: str = DEFAULT_SCHEDULER,
        init_latents: Optional[torch.Tensor] = None,
        denoise: float = 1.0,
        mask: Optional[torch.Tensor] = None,
        callback: Optional[ProgressCallback] = None,
    ) -> torch.Tensor:
        """Denoise to scaled latents [B, 4, H/8, W/8], drawing randomness in the official order."""
        steps = _check_positive_int(steps, "steps", MAX_STEPS)
        guidance = _check_guidance(guidance)
        if not 0 <= float(denoise) <= 1:
            raise FaceAnonError(f"denoise must be in 0..1, got {denoise}")
        batch = driving.batch
        if init_latents is not None and tuple(init_latents.shape) != (batch, 4, *driving.latent_size):
            raise FaceAnonError(
                f"latent: expected shape {(batch, 4, *driving.latent_size)} to match the driving images, "
                f"got {tuple(init_latents.shape)}"
            )
        if init_latents is not None and float(denoise) <= 0:
            return init_latents.float().clone()
        conditioning, generators, noise = self.prepare(source, driving, seed, guided=guidance != 1)
        self.placement.load(self.models.unet)
        return self.denoiser(
            conditioning,
            make_scheduler(scheduler, self.models.scheduler_config),
            generators,
            noise,
            steps,
            guidance,
            init_latents=init_latents,
            strength=float(denoise),
            mask=mask,
            callback=callback,
        )

    # -- one call ---------------------------------------------------------------------------------
    def __call__(
        self,
        driving: ImageInput,
        source: Optional[ImageInput] = None,
        degree: float = DEFAULT_DEGREE,
        guidance: float = DEFAULT_GUIDANCE,
        steps: int = DEFAULT_STEPS,
        seed: int = 0,
        scheduler: str = DEFAULT_SCHEDULER,
        width: int = DEFAULT_SIZE,
        height: int = DEFAULT_SIZE,
        callback: Optional[ProgressCallback] = None,
    ) -> np.ndarray:
        """Anonymize ``driving`` (degree > 0) or put ``source``'s identity on it (degree 0).

        Returns float32 [B, H, W, 3] in 0..1. Batch item i uses seed + i.
        """
        degree = check_degree(degree)
        seed = check_seed(seed)
        width = _check_positive_int(width, "width", 4096)
        height = _check_positive_int(height, "height", 4096)
        driving_reference = self.encode(driving, width, height, "driving")
        if degree > 0:
            if source is not None:
                warnings.warn("degree > 0 anonymizes the driving image itself; the source image is ignored.", stacklevel=2)
            source_reference = driving_reference
        elif source is None:
            raise FaceAnonError("source: required when degree is 0 (face swap); pass the face to put on the driving image")
        else:
            source_reference = self.encode(source, width, height, "source")
        latents = self.sample(
            self.blend(source_reference, degree), driving_reference, seed, steps, guidance, scheduler, callback=callback
        )
        return to_hwc_numpy(self.decode(latents))

    # -- faces in the wild ------------------------------------------------------------------------
    def anonymize_faces(self, image, detector=None, settings: Optional[PhotoSettings] = None, *,
                        mask: Optional[np.ndarray] = None, callback: Optional[ProgressCallback] = None, **options):
        """Anonymize every selected face of a photo at its own resolution.

        ``image`` is a PIL image or an HxWx3 array (uint8, or float in 0..1); ``detector`` defaults to
        the recall mode (``faces.load_detector()``: YuNet and CenterFace from the default models folder);
        ``mask`` (HxW) limits processing to faces centred inside it. ``settings`` is a ``PhotoSettings``, or
        pass its options loose: ``degree`` (1.25), ``guidance``, ``steps``, ``seed``, ``scheduler``,
        ``batch_size``, ``framing``, ``selection`` (a ``FaceSelection``), ``compositing``, ``fail_closed`` (a
        ``FailClosed``, on by default: faces that cannot be generated are redacted instead of left),
        ``on_no_face`` ("error" raises when no face is found instead of passing the image through) and
        ``verification`` (an ``IdentityVerifier`` in a ``VerificationPolicy``, which re-checks every face and
        retries or redacts the ones that are still recognizable).
        Returns ``(image, mask, faces)``: the photo as an array of the input's dtype, an HxW float32 mask
        of the replaced regions, and the processed ``Face`` records. Face i uses seed + i.
        """
        settings = settings or PhotoSettings.from_options(**options)
        if check_degree(settings.generation.degree) == 0:
            raise FaceAnonError("degree: anonymization needs degree > 0 (1.25 recommended); use swap_faces to swap")
        return self._faces_in_photo(image, None, detector, settings, mask, callback)

    def swap_faces(self, source, image, detector=None, settings: Optional[PhotoSettings] = None, *,
                   mask: Optional[np.ndarray] = None, callback: Optional[ProgressCallback] = None, **options):
        """Put the largest face of ``source`` onto every selected face of ``image``; see anonymize_faces (the
        degree is 0, and nothing is verified: the result is meant to be someone else)."""
        settings = settings or PhotoSettings.from_options(**options)
        settings = replace(settings, generation=replace(settings.generation, degree=0.0))
        return self._faces_in_photo(image, source, detector, settings, mask, callback)

    def _faces_in_photo(self, image, source, detector, settings: PhotoSettings, mask, callback):
        result = process_photos(self, [image], detector or load_detector(), settings, source=source, masks=[mask],
                                callback=callback)[0]
        return result.image, result.mask, [aligned.face for aligned in result.faces]
