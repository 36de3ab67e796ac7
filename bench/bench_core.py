# SPDX-License-Identifier: AGPL-3.0-or-later
"""Speed and memory of the core engine on the full SD2.1-sized architecture (random weights).

    python bench/bench_core.py [--sizes 256 512] [--repeats 2] [--device cpu] [--dtypes fp32 bf16]
    python bench/bench_core.py --end-to-end [--steps 25] [--repeats 2] [--dtypes fp32 bf16]

Prints, per precision and resolution, the time of one UNet step (batch 2 = guided, with references) for
(a) the official formulation (concatenated self-attention, stock cross-attention) and (b) ours
(query-only self-attention with reference projections cached per generation, two-token cross-attention
folded into per-head projections, split GEGLU, upsampling convolutions as 2x2 subpixel convolutions,
freed CPU memory kept in the heap during the step), their ratio and max |difference|; the time of one
ReferenceNet pass; a whole 4-step anonymization at the smallest size; and the peak memory.

--end-to-end runs the real pipeline instead (end_to_end.py): a cold start from a model folder, then whole
faces (anonymization twice, then a swap) per precision, each in a fresh process, with the time of every
stage and the differences between the precisions. The default precisions are fp32 and, on CPUs that compute
it natively, bf16.
"""

from __future__ import annotations

import argparse
import resource
import time
from contextlib import nullcontext

import torch
from working_tree import import_package


import_package()
import faceanon.core as core  # noqa: E402
from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from diffusers.models.attention_processor import AttnProcessor2_0  # noqa: E402
from transformers import CLIPVisionConfig, CLIPVisionModel  # noqa: E402

from faceanon.core.attention_processors import ConcatReferenceAttnProcessor, ReferenceAttnProcessor  # noqa: E402
from faceanon.core.cpu_heap import retained_cpu_heap  # noqa: E402
from faceanon.core.cross_attention import TwoTokenCrossAttnProcessor  # noqa: E402
from faceanon.core.precision import DTYPES, cpu_has_native_bf16  # noqa: E402
from faceanon.core.reference_bank import ReferenceBank  # noqa: E402
from faceanon.core.reference_routing import consumed_state_keys, install_capture, install_injection, run_referencenet  # noqa: E402
from faceanon.core.split_geglu import install_split_geglu  # noqa: E402
from faceanon.core.subpixel_upsampling import install_subpixel_upsampling  # noqa: E402
from faceanon.core.sd21 import CLIP_VIT_L14_CONFIG, SD21_UNET_CONFIG, SD21_VAE_CONFIG  # noqa: E402
from end_to_end import DEFAULT_MODEL_FOLDER, compare  # noqa: E402

def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed(fn, repeats):
    """Best wall time over ``repeats`` runs (and that run's process CPU time, steadier on a shared machine)."""
    best, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - start
        if wall < best:
            best, cpu = wall, time.process_time() - start_cpu
    return best, cpu, out


def _configure(unet, bank, ours: bool) -> None:
    """(a) the official formulation, or (b) ours, on the same weights."""
    if ours:
        install_injection(unet, bank, ReferenceAttnProcessor, TwoTokenCrossAttnProcessor)
        install_split_geglu(unet)
        install_subpixel_upsampling(unet)
    else:
        install_injection(unet, bank, ConcatReferenceAttnProcessor, AttnProcessor2_0)
        for module in unet.modules():
            module.__dict__.pop("forward", None)  # back to diffusers' own forward


def unet_step_comparison(unet, referencenet, size, repeats, device, dtype):
    """Per variant: first step (includes projecting the references), best step wall/CPU time, output.

    The variants alternate, so that both see the same phases of a shared machine."""
    latent = size // 8
    keys = consumed_state_keys(unet)
    recorder = install_capture(referencenet, keys)
    torch.manual_seed(0)
    embeds = torch.randn(2, 1, 1024, device=device, dtype=dtype)
    latents = torch.randn(2, 4, latent, latent, device=device, dtype=dtype)
    ref_time, _, source = timed(lambda: run_referencenet(referencenet, recorder, latents, embeds), repeats)
    driving = {k: v[:1] for k, v in source.items()}
    sample = torch.randn(2, 4, latent, latent, device=device, dtype=dtype)
    context = torch.randn(2, 2, 1024, device=device, dtype=dtype)
    bank = ReferenceBank()
    steps = {"a_concat": [], "b_ours": []}
    first, outputs = {}, {}
    for repeat in range(repeats):
        for label in steps:
            ours = label == "b_ours"
            _configure(unet, bank, ours)
            bank.load(source, driving)  # a fresh generation: (b) projects the references again
            with torch.no_grad(), retained_cpu_heap(device) if ours else nullcontext():
                if repeat == 0:
                    first[label] = timed(lambda: unet(sample, 500, encoder_hidden_states=context).sample, 1)[0]
                wall, cpu, out = timed(lambda: unet(sample, 500, encoder_hidden_states=context).sample, 1)
            steps[label].append((wall, cpu))
            outputs[label] = out.float()
    results = {label: (first[label], *min(steps[label]), outputs[label]) for label in steps}
    diff = (outputs["a_concat"] - outputs["b_ours"]).abs().max().item()
    return ref_time, results, diff


def whole_anonymization(unet, source_net, driving_net, size, device, dtype):
    models = core.FaceAnonModels(
        unet=unet,
        source_referencenet=source_net,
        driving_referencenet=driving_net,
        image_encoder=CLIPVisionModel(CLIPVisionConfig(**CLIP_VIT_L14_CONFIG)).eval(),
        vae=AutoencoderKL(**SD21_VAE_CONFIG).eval(),
    )
    pipe = core.FaceAnonPipeline(models, device=device, dtype=dtype)
    image = torch.rand(1, size, size, 3)
    start = time.perf_counter()
    pipe(image, steps=4, width=size, height=size)
    return time.perf_counter() - start


def step_figures(unet, referencenet, sizes, repeats, device, dtype, name) -> dict:
    unet, referencenet = unet.to(device, dtype), referencenet.to(device, dtype)
    figures = {}
    for size in sizes:
        ref_time, results, diff = unet_step_comparison(unet, referencenet, size, repeats, device, dtype)
        (_, a_step, a_cpu, _), (b_first, b_step, b_cpu, _) = results["a_concat"], results["b_ours"]
        figures[size] = (a_step, a_cpu, b_step, b_cpu)
        print(f"[{name} {size}x{size}] ReferenceNet pass (batch 2, early exit): {ref_time:.2f} s")
        print(f"[{name} {size}x{size}] UNet step batch 2: (a) concat {a_step:.2f} s wall / {a_cpu:.1f} s CPU | (b) ours "
              f"{b_step:.2f} s wall / {b_cpu:.1f} s CPU (first step incl. reference projections {b_first:.2f} s) | "
              f"speed-up {a_step / b_step:.2f}x wall, {a_cpu / b_cpu:.2f}x CPU | max|diff| {diff:.2e}", flush=True)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtypes", nargs="+", choices=list(DTYPES),
                        default=["fp32", "bf16"] if cpu_has_native_bf16() else ["fp32"])
    parser.add_argument("--skip-whole", action="store_true")
    parser.add_argument("--end-to-end", action="store_true", help="time the real pipeline (see above)")
    parser.add_argument("--steps", type=int, default=25, help="--end-to-end: denoising steps per face")
    parser.add_argument("--model-folder", default=DEFAULT_MODEL_FOLDER,
                        help="--end-to-end: the model folder to time; by default random full-size weights, written "
                        f"there once (about 12 GB): {DEFAULT_MODEL_FOLDER}")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {device}, {' and '.join(args.dtypes)}")
    if args.end_to_end:
        compare(args.dtypes, args.steps, args.repeats, args.model_folder, at_steps=25)
        return
    start = time.perf_counter()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**SD21_UNET_CONFIG).eval()
    referencenet = UNet2DConditionModel(**SD21_UNET_CONFIG).eval()
    print(f"built UNet + ReferenceNet in {time.perf_counter() - start:.1f} s, params {sum(p.numel() for p in unet.parameters()):,}")
    figures = {name: step_figures(unet, referencenet, args.sizes, args.repeats, device, DTYPES[name], name)
               for name in args.dtypes}
    for name in args.dtypes[1:]:
        for size in args.sizes:
            a_fp32, _, b_fp32, _ = figures[args.dtypes[0]][size]
            b_step = figures[name][size][2]
            print(f"[{size}x{size}] (b) in {name}: {b_fp32 / b_step:.2f}x our {args.dtypes[0]} step, "
                  f"{a_fp32 / b_step:.2f}x the official formulation in {args.dtypes[0]}")
    if not args.skip_whole:
        size, dtype = min(args.sizes), DTYPES[args.dtypes[0]]
        driving_net = UNet2DConditionModel(**SD21_UNET_CONFIG).eval().to(device, dtype)
        seconds = whole_anonymization(unet.to(device, dtype), referencenet.to(device, dtype), driving_net, size, device, dtype)
        print(f"[{size}x{size}] whole anonymization, 4 steps, guidance 4, {args.dtypes[0]}: {seconds:.1f} s")
    print(f"peak RSS {peak_rss_gb():.1f} GB")
    if device.type == "cuda":
        print(f"peak VRAM {torch.cuda.max_memory_allocated() / 2**30:.2f} GB")


if __name__ == "__main__":
    main()
