# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every option users set, once: its name, choices or range, default and one line of help.

The CLI's arguments (cli/arguments.py) and the nodes' inputs (nodes/inputs.py) are built from these records, and
core takes its defaults and its lists of choices from here. This module imports nothing heavy (no torch, no
OpenCV), so that ``faceanon --help`` answers at once. A front end may narrow a range for its own reason (said
where it does), never widen it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

# -- the lists of choices ------------------------------------------------------------------------------------
SCHEDULERS = ("ddpm", "ddim", "euler", "dpmpp_2m_karras", "unipc")
FRAMINGS = ("whole_face", "ffhq")
FACE_ORDERS = ("largest", "left_to_right", "right_to_left", "top_to_bottom")
REDACTION_METHODS = ("blur", "pixelate", "black", "fill")
DETECTION_MODE_NAMES = ("recall", "accurate", "fast")
ON_NO_FACE = ("passthrough", "error")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")

MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes at most a signed 64-bit value
MAX_STEPS = 999  # SD2.1 "leading" spacing with steps_offset 1 would ask for timestep 1000 at 1000 steps


@dataclass(frozen=True)
class Option:
    """One option. ``low``/``high`` bound numbers (``low_open``: the value must be above ``low``); ``step`` is the
    nodes' widget step."""

    name: str
    default: Any
    help: str
    choices: tuple = ()
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    step: Optional[float] = None

    @property
    def kind(self) -> type:
        return type(self.default)


# -- generation ----------------------------------------------------------------------------------------------
DEGREE = Option("degree", 1.25, "anonymization degree d: 0 keeps the source identity (swap), 1 removes it, above 1 "
                "pushes past it; 1.2-1.3 is recommended, above 1.5 faces become invalid", low=0.0, high=3.0, step=0.05)
STEPS = Option("steps", 25, "denoising steps (25 for faces in photos; 50-200 for the finest detail)",
               low=1, high=MAX_STEPS)
GUIDANCE = Option("guidance", 4.0, "classifier-free guidance, 4.0 as in the paper; 1 disables it and runs twice as "
                  "fast", low=1.0, high=100.0, step=0.1)
SEED = Option("seed", 0, "random seed; face j of every image (image j of a batch) uses seed + j, so a result never "
              "depends on the others (past the largest seed it wraps around)", low=0, high=MAX_SEED)
SCHEDULER = Option("scheduler", "ddpm", "sampler; ddpm matches the reference implementation", choices=SCHEDULERS)
BATCH_SIZE = Option("batch_size", 4, "faces per UNet call (more is faster on a big GPU; results differ at most by "
                    "rounding)", low=1, high=256)
PRECISION = Option("precision", "auto", "auto: fp16 on GPUs that support it; on the CPU bf16 where the processor "
                   "computes it natively (Intel AMX or AVX-512 BF16, AMD Zen 4), else fp32. fp32 reproduces the "
                   "reference implementation exactly; bf16 differs slightly (see the README)", choices=PRECISIONS)

# -- faces ---------------------------------------------------------------------------------------------------
FRAMING = Option("framing", "whole_face", "crop framing: whole_face is the official in-the-wild framing (face plus "
                 "some forehead and hair); ffhq is the eye/mouth alignment of the training images", choices=FRAMINGS)
DETECTION = Option("detection", "recall", "recall: YuNet and CenterFace together, for photos and crowds (faces from "
                   "10 px, close-ups, faces cut by the border); accurate: YuNet alone, faces from 15 px at 1080p; "
                   "fast: faces from 30 px at 1080p, for video frames", choices=DETECTION_MODE_NAMES)
MIN_SIZE = Option("min_size", 0, "ignore faces whose box is smaller than this many pixels (0: every face)",
                  low=0, high=8192)
MAX_FACES = Option("max_faces", 0, "process at most this many faces per image, in the face order (0: all)",
                   low=0, high=1000)
ORDER = Option("order", "largest", "face order, used by max_faces and indices", choices=FACE_ORDERS)
INDICES = Option("indices", "", "only these faces, by position in the face order, e.g. '0,2' (empty: all)")
ON_NO_FACE_OPTION = Option("on_no_face", "passthrough", "when an image has no face: pass it through unchanged (with "
                           "a warning in the log), or stop with an error", choices=ON_NO_FACE)

# -- compositing and failing closed ---------------------------------------------------------------------------
FEATHER = Option("feather", 0.06, "soft edge of the pasted face, as a fraction of the crop side", low=0.0, high=0.5,
                 step=0.01)
GROW = Option("grow", 0.0, "grow (positive) or shrink (negative) the pasted face region, as a fraction of the crop "
              "side", low=-0.25, high=0.3, step=0.01)
COLOR_MATCH = Option("color_match", False, "match the new face's colour and brightness to the original skin")
FAIL_CLOSED = Option("fail_closed", True, "redact any detected face that could not be anonymized (too small, "
                     "sampler error, invalid output) instead of leaving it unchanged")
FALLBACK = Option("fallback", "blur", "how faces that fail closed are redacted", choices=REDACTION_METHODS)

# -- verification --------------------------------------------------------------------------------------------
SIMILARITY_THRESHOLD = Option("similarity_threshold", 0.363, "cosine similarity at or above which a face counts as "
                              "recognizable (0.363 is OpenCV's SFace 'same person' value)", low=-1.0, high=1.0,
                              step=0.001)
DEGREE_STEP = Option("degree_step", 0.1, "how much the degree grows at each retry", low=0.0, high=1.0, step=0.05)
MAX_DEGREE = Option("max_degree", 1.5, "retries never go above this degree (faces become invalid above about 1.5)",
                    low=0.1, high=3.0, step=0.05)
MAX_RETRIES = Option("max_retries", 2, "new attempts, each with a new seed and a stronger degree, for a face that "
                     "is still recognizable before it is redacted", low=0, high=10)
