# SPDX-License-Identifier: AGPL-3.0-or-later
"""GPU figures in one run of under ten minutes, for the day a GPU is at hand.

    python bench/bench_gpu.py [--device cuda] [--steps 25] [--dtypes fp16 bf16] [--no-compile]

Builds the full SD2.1-sized model with random weights directly on the GPU (nothing is read from disk), then
prints, per precision, at 512 x 512 with guidance:
* seconds per guided UNet step and per whole face (25 steps), at batch 1 and batch 4;
* the peak GPU memory of each;
* the same with the UNet in channels-last memory format;
* the same with the UNet compiled by ``torch.compile(mode="reduce-overhead")``, with the compile time, so it
  shows whether compiling pays off within one typical batch.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from end_to_end import StageClock  # noqa: E402
from working_tree import import_package  # noqa: E402

SIZE = 512


def build_models(device: torch.device, dtype: torch.dtype):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPVisionConfig, CLIPVisionModel

    from faceanon.core import FaceAnonModels
    from faceanon.core.sd21 import CLIP_VIT_L14_CONFIG, SD21_UNET_CONFIG, SD21_VAE_CONFIG

    torch.manual_seed(0)
    with device:  # initialised on the GPU: seconds, not the minutes a CPU takes
        unets = [UNet2DConditionModel(**SD21_UNET_CONFIG).eval().to(dtype) for _ in range(3)]
        clip = CLIPVisionModel(CLIPVisionConfig(**CLIP_VIT_L14_CONFIG)).eval().to(dtype)
        vae = AutoencoderKL(**SD21_VAE_CONFIG).eval().to(dtype)
    return FaceAnonModels(unet=unets[0], source_referencenet=unets[1], driving_referencenet=unets[2],
                          image_encoder=clip, vae=vae)


def time_faces(pipe, batch: int, steps: int) -> dict:
    """Seconds per guided step and per face, and peak memory, for one call on ``batch`` faces."""
    clock = StageClock()
    clock.wrap(pipe.denoiser, "predict", "unet_steps")
    faces = torch.rand(batch, SIZE, SIZE, 3)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    pipe(faces, steps=steps, seed=0)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    unet = clock.take()["unet_steps"]["wall"]
    del pipe.denoiser.predict  # the instance wrapper; the class method is back
    return {"step": unet / steps, "face": seconds / batch, "call": seconds,
            "vram": torch.cuda.max_memory_allocated() / 2**30}


def report(label: str, figures: dict) -> None:
    print(f"  {label:44} {figures['step'] * 1000:8.1f} ms/step {figures['face']:7.2f} s/face "
          f"{figures['call']:7.2f} s/call  peak {figures['vram']:5.1f} GiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--dtypes", nargs="+", default=["fp16", "bf16"], choices=["fp16", "bf16", "fp32"])
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile rows")
    args = parser.parse_args()
    import_package()
    from faceanon.core import FaceAnonPipeline
    from faceanon.core.precision import DTYPES

    device = torch.device(args.device)
    if device.type != "cuda" or not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: this script measures a CUDA GPU, and none is available here")
    print(f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, {SIZE}x{SIZE}, {args.steps} steps, "
          "guidance 4")
    begin = time.perf_counter()
    for name in args.dtypes:
        dtype = DTYPES[name]
        pipe = FaceAnonPipeline(build_models(device, dtype), device=device, dtype=dtype)
        pipe(torch.rand(1, SIZE, SIZE, 3), steps=2)  # kernels chosen, null states computed
        print(f"{name}:")
        for batch in (1, 4):
            report(f"batch {batch}", time_faces(pipe, batch, args.steps))
        pipe.models.unet.to(memory_format=torch.channels_last)
        for batch in (1, 4):
            report(f"batch {batch}, channels-last UNet", time_faces(pipe, batch, args.steps))
        pipe.models.unet.to(memory_format=torch.contiguous_format)
        if not args.no_compile:
            eager = pipe.denoiser.unet
            pipe.denoiser.unet = torch.compile(eager, mode="reduce-overhead")
            try:
                for batch in (1, 4):
                    start = time.perf_counter()
                    pipe(torch.rand(batch, SIZE, SIZE, 3), steps=2)  # compiles for this batch's shapes
                    torch.cuda.synchronize()
                    print(f"  torch.compile(reduce-overhead), batch {batch}: compiling call "
                          f"{time.perf_counter() - start:.1f} s")
                    report(f"batch {batch}, compiled UNet", time_faces(pipe, batch, args.steps))
            except Exception as error:  # noqa: BLE001 - a figure of its own: compiling does not work here
                print(f"  torch.compile(reduce-overhead) failed: {type(error).__name__}: {str(error)[:300]}")
            finally:
                pipe.denoiser.unet = eager
        del pipe
        torch.cuda.empty_cache()
    print(f"total {time.perf_counter() - begin:.0f} s")


if __name__ == "__main__":
    main()
