# SPDX-License-Identifier: AGPL-3.0-or-later
"""Stable Diffusion 2.1's architecture, for building full-size models with random weights (benchmarks, tests).

The published FaceAnon nets use this UNet config (all three); ``load_models`` reads the real configs.
"""

SD21_UNET_CONFIG = dict(
    sample_size=96,
    down_block_types=["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"],
    up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3,
    block_out_channels=[320, 640, 1280, 1280],
    cross_attention_dim=1024,
    attention_head_dim=[5, 10, 20, 20],
    use_linear_projection=True,
    upcast_attention=True,
)
SD21_VAE_CONFIG = dict(
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=[128, 256, 512, 512],
    layers_per_block=2,
    latent_channels=4,
    sample_size=768,
)
CLIP_VIT_L14_CONFIG = dict(
    hidden_size=1024, intermediate_size=4096, num_attention_heads=16, num_hidden_layers=24, patch_size=14
)
