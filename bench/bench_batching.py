# SPDX-License-Identifier: AGPL-3.0-or-later
"""How much the UNet batch size changes generated faces (the README's batching promise).

    python bench/bench_batching.py [--model FOLDER] [--device cpu] [--dtype fp32] [--steps 2] [--faces 5]

Generates the same faces with --batch 1, 2 and 4 and prints, against --batch 1, the largest difference
before rounding and how many 8-bit values differ (and by how much at most); then whether a face comes out
bit-identical in UNet calls of the same size when its neighbours and its place in the call change. The
default model is the tiny test model; point --model at the real one to measure it.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from working_tree import import_package  # noqa: E402

TINY_MODEL = os.path.join(ROOT, "tests", "fixtures", "golden", "model")
FACE = os.path.join(ROOT, "tests", "fixtures", "golden", "inputs", "img_a.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=TINY_MODEL)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--faces", type=int, default=5)
    args = parser.parse_args()
    import_package()
    from faceanon.core import FaceAnonPipeline
    from faceanon.core.face_settings import Generation
    from faceanon.core.photos import generate_faces

    pipe = FaceAnonPipeline.from_pretrained(args.model, device=args.device, dtype=args.dtype)
    face = Image.open(FACE).convert("RGB").resize((512, 512))
    crops = [np.asarray(face.rotate(8 * i)) for i in range(args.faces)]

    def generated(order, batch):
        faces = generate_faces(pipe, [crops[i] for i in order], list(order),
                               Generation(degree=1.25, guidance=4.0, steps=args.steps, scheduler="ddpm", batch_size=batch))
        return dict(zip(order, faces))

    order = list(range(args.faces))
    alone = generated(order, 1)
    print(f"{args.model} on {args.device} in {args.dtype}, {args.steps} steps, {args.faces} faces")
    for batch in (2, 4):
        batched = generated(order, batch)
        before = max(float(np.abs(alone[i] - batched[i]).max()) for i in order)
        levels = [np.abs(np.rint(alone[i] * 255) - np.rint(batched[i] * 255)) for i in order]
        changed = sum(int((level > 0).sum()) for level in levels)
        total = sum(level.size for level in levels)
        print(f"--batch {batch} vs 1: max |difference| {before:.2e} before rounding; {changed} of {total} 8-bit "
              f"values differ, by at most {int(max(level.max() for level in levels))}")
    forward, backward = generated(order, 4), generated(order[::-1], 4)
    same_size = [i for i in order[: 4 * (args.faces // 4)] if i in order[-4 * (args.faces // 4):]]
    identical = all(np.array_equal(forward[i], backward[i]) for i in same_size) if same_size else None
    print(f"same-size calls (batch 4), other neighbours and places, faces {same_size}: bit-identical {identical}")


if __name__ == "__main__":
    main()
