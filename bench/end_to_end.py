# SPDX-License-Identifier: AGPL-3.0-or-later
"""One whole face through the real pipeline, per precision, each in a fresh process (bench_core.py --end-to-end).

A full-size model with random weights is written once in the official folder layout (about 12 GB of fp32
safetensors), so every worker process starts cold, as a user's first run does: it loads the folder with
``FaceAnonPipeline.from_pretrained``, anonymizes one 512 x 512 face twice (first and second call), then swaps
another face onto it. Each stage is timed by wrapping the pipeline's own methods: CLIP, VAE encode,
ReferenceNet passes, null states, UNet steps and VAE decode. The parent alternates the precisions, so that
both see the same phases of a shared machine, and compares their images and per-step clean-latent estimates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from functools import wraps

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACES = [os.path.join(ROOT, "tests", "fixtures", "golden", "inputs", f"img_{name}.png") for name in "ab"]
DEFAULT_MODEL_FOLDER = os.path.join(tempfile.gettempdir(), "faceanon-bench-sd21-random")
STAGES = ("clip", "vae_encode", "referencenet", "null_states", "unet_steps", "vae_decode")


def write_random_model(folder: str) -> None:
    """Full-size random weights in the official layout, unless the folder already holds them."""
    if os.path.isfile(os.path.join(folder, "complete")):
        return
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPVisionConfig, CLIPVisionModel

    from faceanon.core.sd21 import CLIP_VIT_L14_CONFIG, SD21_UNET_CONFIG, SD21_VAE_CONFIG

    torch.manual_seed(0)
    for name in ("unet", "referencenet", "conditioning_referencenet"):
        UNet2DConditionModel(**SD21_UNET_CONFIG).save_pretrained(os.path.join(folder, name), safe_serialization=True)
    CLIPVisionModel(CLIPVisionConfig(**CLIP_VIT_L14_CONFIG)).save_pretrained(
        os.path.join(folder, "image_encoder"), safe_serialization=True)
    AutoencoderKL(**SD21_VAE_CONFIG).save_pretrained(os.path.join(folder, "vae"), safe_serialization=True)
    open(os.path.join(folder, "complete"), "w").close()


class StageClock:
    """Wall and CPU seconds per stage, from wrappers around the pipeline's own methods."""

    def __init__(self):
        self.wall, self.cpu, self.calls = defaultdict(float), defaultdict(float), defaultdict(int)
        self.open = None  # a stage inside another (the null states run a ReferenceNet) counts once

    def wrap(self, owner, method: str, stage: str) -> None:
        inner = getattr(owner, method)

        @wraps(inner)
        def timed(*args, **kwargs):
            if self.open is not None:
                return inner(*args, **kwargs)
            self.open = stage
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.wall[stage] += time.perf_counter() - start
                self.cpu[stage] += time.process_time() - start_cpu
                self.calls[stage] += 1
                self.open = None

        setattr(owner, method, timed)

    def take(self) -> dict:
        taken = {stage: {"wall": self.wall[stage], "cpu": self.cpu[stage], "calls": self.calls[stage]}
                 for stage in STAGES}
        self.wall.clear(), self.cpu.clear(), self.calls.clear()
        return taken


def worker(model: str, dtype: str, steps: int, out: str) -> None:
    """Runs in its own process; prints one JSON line and saves the images and clean-latent estimates."""
    start, start_cpu = time.perf_counter(), time.process_time()
    import torch
    from PIL import Image

    from faceanon.core import FaceAnonPipeline

    pipe = FaceAnonPipeline.from_pretrained(model, device="cpu", dtype=dtype)
    load = {"wall": time.perf_counter() - start, "cpu": time.process_time() - start_cpu}
    clock = StageClock()
    clock.wrap(pipe, "encode_clip", "clip")
    clock.wrap(pipe, "encode_posterior", "vae_encode")
    clock.wrap(pipe, "decode_latents", "vae_decode")
    clock.wrap(pipe.null_states, "_compute", "null_states")
    clock.wrap(pipe, "_referencenet_states", "referencenet")
    clock.wrap(pipe.denoiser, "predict", "unet_steps")
    face, other = (Image.open(path).convert("RGB").resize((512, 512), Image.BICUBIC) for path in FACES)
    calls, saved = {}, {}
    for call, kwargs in (("first", {}), ("second", {}), ("swap", {"source": other, "degree": 0.0})):
        estimates = []
        begin, begin_cpu = time.perf_counter(), time.process_time()
        image = pipe(face, steps=steps, seed=0, callback=lambda i, n, x0: estimates.append(x0.float().numpy()),
                     **kwargs)
        calls[call] = {"wall": time.perf_counter() - begin, "cpu": time.process_time() - begin_cpu,
                       "stages": clock.take()}
        saved[f"{call}_image"], saved[f"{call}_x0"] = image, np.stack(estimates)
    np.savez(out, **saved)
    print(json.dumps({"dtype": dtype, "threads": torch.get_num_threads(), "load": load, "calls": calls}))


def run_worker(model: str, dtype: str, steps: int, out: str) -> dict:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", model, dtype, str(steps), out],
                          capture_output=True, text=True, cwd=os.path.join(ROOT, "bench"))
    if done.returncode != 0:
        raise SystemExit(f"{dtype} worker failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_face(call: dict, steps: int, at_steps: int, key: str = "wall") -> float:
    """The call's time with its UNet steps scaled from ``steps`` to ``at_steps``."""
    unet = call["stages"]["unet_steps"][key]
    return call[key] - unet + unet * at_steps / steps


def compare(dtypes, steps: int, repeats: int, model: str, at_steps: int) -> None:
    """``model`` is a model folder; the default one is written with random weights first."""
    if os.path.abspath(model) == DEFAULT_MODEL_FOLDER:
        write_random_model(model)
    runs, arrays = defaultdict(list), {}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(repeats):
            for dtype in dtypes:
                out = os.path.join(scratch, f"{dtype}.npz")
                runs[dtype].append(run_worker(model, dtype, steps, out))
                arrays[dtype] = dict(np.load(out))
                print(f"  run {repeat + 1}/{repeats} {dtype}: first call {runs[dtype][-1]['calls']['first']['wall']:.1f} s",
                      flush=True)
    best = {dtype: min(results, key=lambda r: r["calls"]["second"]["wall"]) for dtype, results in runs.items()}
    print(f"\nWhole face at 512x512, guidance 4, {steps} steps measured ({best[dtypes[0]]['threads']} threads; "
          f"best of {repeats} fresh processes; wall s / CPU s)")
    print(f"{'':34}" + "".join(f"{dtype:>22}" for dtype in dtypes))
    rows = [("load the model folder (cold)", lambda r: (r["load"]["wall"], r["load"]["cpu"]))]
    for call in ("first", "second"):
        rows.append((f"{call} face, {steps} steps", lambda r, c=call: (r["calls"][c]["wall"], r["calls"][c]["cpu"])))
    for stage in STAGES:
        rows.append((f"  second face: {stage}", lambda r, s=stage: (r["calls"]["second"]["stages"][s]["wall"],
                                                                   r["calls"]["second"]["stages"][s]["cpu"])))
    rows.append(("  first face: null states", lambda r: (r["calls"]["first"]["stages"]["null_states"]["wall"],
                                                         r["calls"]["first"]["stages"]["null_states"]["cpu"])))
    rows.append(("one UNet step (guided)", lambda r: tuple(r["calls"]["second"]["stages"]["unet_steps"][k] / steps
                                                           for k in ("wall", "cpu"))))
    rows.append((f"per face at {at_steps} steps (second call)",
                 lambda r: (per_face(r["calls"]["second"], steps, at_steps), per_face(r["calls"]["second"], steps,
                                                                                      at_steps, "cpu"))))
    rows.append(("cold start: first minus second call",
                 lambda r: tuple(r["calls"]["first"][k] - r["calls"]["second"][k] for k in ("wall", "cpu"))))
    for label, value in rows:
        print(f"{label:34}" + "".join(f"{'%.2f / %.1f' % value(best[dtype]):>22}" for dtype in dtypes))
    reference = dtypes[0]
    for dtype in dtypes[1:]:
        ratio = per_face(best[reference]["calls"]["second"], steps, at_steps) / per_face(
            best[dtype]["calls"]["second"], steps, at_steps)
        print(f"\n{dtype} against {reference}, per face at {at_steps} steps: {ratio:.2f}x faster")
        for call in ("second", "swap"):
            image = np.abs(arrays[dtype][f"{call}_image"] - arrays[reference][f"{call}_image"])
            x0 = np.abs(arrays[dtype][f"{call}_x0"] - arrays[reference][f"{call}_x0"]).reshape(steps, -1)
            what = "anonymization" if call == "second" else "swap"
            print(f"  {what}: image max |diff| {image.max():.4f}, mean {image.mean():.5f} (0..1 scale); "
                  f"clean-latent estimate max |diff| per step " + " ".join(f"{v:.3f}" for v in x0.max(1)))


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    from working_tree import import_package

    import_package()
    model_folder, precision, step_count, output = sys.argv[2:6]
    worker(model_folder, precision, int(step_count), output)
