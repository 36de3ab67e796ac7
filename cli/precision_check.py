# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon doctor --compare-precision PHOTO...``: fp32 against the faster precision, on the user's photos."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import UsageError
from .image_files import UnreadableImage, read_photo
from .model_paths import diffusion_dir, require_models


def compared_precision(device, named: str):
    """The precision to hold against fp32: the one --dtype names, else what auto picks, else bf16."""
    import torch

    from ..core.model.precision import DTYPES, auto_dtype

    if named not in ("auto", "fp32"):
        return DTYPES[named]
    chosen = auto_dtype(device)
    return chosen if chosen != torch.float32 else torch.bfloat16


def run_comparison(args, root: Path, device) -> int:
    """Prints one line per face and a summary; 0 when every face gets the same new person in both."""
    from ..core.engine.precision_comparison import compare_precisions
    from ..core.engine.verification import IdentityVerifier
    from ..core.faces import DEFAULT_DETECTION_MODE, load_detector
    from ..core.model.pipeline import FaceAnonPipeline
    from ..core.model.precision import dtype_name

    photos = []
    for path in args.compare_precision:
        try:
            photos.append((Path(path).name, read_photo(Path(path)).pixels))
        except (UnreadableImage, OSError) as error:
            raise UsageError(f"--compare-precision {path}: {error}") from None
    require_models(root, ("model", "detector", "recognizer"), download=False,
                   detection=DEFAULT_DETECTION_MODE)
    precision = compared_precision(device, args.dtype)
    other = dtype_name(precision)
    print(f"\nPrecision check on {device}: fp32 against {other}, {len(photos)} photo(s), {args.steps} steps, seed 0. "
          "Loading the model twice, one precision at a time...", file=sys.stderr)
    verifier = IdentityVerifier(models_dir=root)
    agreements = compare_precisions(
        lambda dtype: FaceAnonPipeline.from_pretrained(str(diffusion_dir(root)), device=device, dtype=dtype),
        photos, load_detector(DEFAULT_DETECTION_MODE, root), verifier, precision, steps=args.steps)
    for a in agreements:
        print(f"  {a.photo} face {a.face} ({a.face_px} px): the two new faces are alike at {a.between_results:.2f}; "
              f"against the original: fp32 {a.fp32_to_original:.2f}, {other} {a.other_to_original:.2f}; "
              f"largest pixel change {a.largest_change}/255")
    if not agreements:
        print("  No face was found in these photos.")
        return 0
    threshold = verifier.threshold
    same = sum(a.between_results >= threshold for a in agreements)
    fp32_private = sum(a.fp32_to_original < threshold for a in agreements)
    other_private = sum(a.other_to_original < threshold for a in agreements)
    print(f"{len(agreements)} face(s). The same new person in fp32 and {other} (similarity at least {threshold}, "
          f"SFace's same-person threshold): {same}/{len(agreements)}. Not the original person (below {threshold}): "
          f"fp32 {fp32_private}/{len(agreements)}, {other} {other_private}/{len(agreements)}.")
    return 0 if same == len(agreements) and other_private == fp32_private else 1
