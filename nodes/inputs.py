# SPDX-License-Identifier: AGPL-3.0-or-later
"""Input declarations shared by several nodes, so each has one tooltip and one default."""

from ..core.pipeline import DEFAULT_DEGREE, DEFAULT_GUIDANCE, DEFAULT_SIZE, DEFAULT_STEPS, MAX_STEPS
from ..core.randomness import MAX_SEED
from ..core.schedulers import SCHEDULER_NAMES

MODEL = ("FACEANON_MODEL", {"tooltip": "The model from FaceAnon Load Model."})
DEGREE = (
    "FLOAT",
    {
        "default": DEFAULT_DEGREE,
        "min": 0.0,
        "max": 3.0,
        "step": 0.05,
        "tooltip": "Anonymization degree d: 0 keeps the source identity (swap), 1 removes it, above 1 pushes "
        "past it. 1.2-1.3 is recommended; above 1.5 faces become invalid.",
    },
)
SEED = (
    "INT",
    {
        "default": 0,
        "min": 0,
        "max": MAX_SEED - 4096,
        "control_after_generate": True,
        "tooltip": "Random seed. Image i of a batch uses seed + i, so its result never depends on the others.",
    },
)
STEPS = ("INT", {"default": DEFAULT_STEPS, "min": 1, "max": MAX_STEPS, "tooltip": "Denoising steps (25 is the in-the-wild default; 50-200 for the finest detail)."})
GUIDANCE = (
    "FLOAT",
    {
        "default": DEFAULT_GUIDANCE,
        "min": 1.0,
        "max": 30.0,
        "step": 0.1,
        "tooltip": "Classifier-free guidance toward the source identity (or away from it when anonymizing). "
        "4.0 is the paper's value; 1.0 disables guidance and runs twice as fast.",
    },
)
SCHEDULER = (list(SCHEDULER_NAMES), {"default": "ddpm", "tooltip": "Sampler. ddpm matches the reference implementation."})
SIZE = {"default": DEFAULT_SIZE, "min": 64, "max": 2048, "step": 8}
WIDTH = ("INT", {**SIZE, "tooltip": "Width the face is processed at (the model was trained at 512)."})
HEIGHT = ("INT", {**SIZE, "tooltip": "Height the face is processed at (the model was trained at 512)."})

DETECTOR = ("FACEANON_DETECTOR", {"tooltip": "The face detector from FaceAnon Load Face Detector."})
FRAMING = (
    ["whole_face", "ffhq"],
    {"default": "whole_face", "tooltip": "Crop framing: whole_face is the official in-the-wild framing (face plus "
     "some forehead and hair); ffhq is the eye/mouth alignment of the training images."},
)
MIN_SIZE = ("INT", {"default": 0, "min": 0, "max": 8192, "tooltip": "Ignore faces whose box is smaller than this many pixels."})
MAX_FACES = ("INT", {"default": 0, "min": 0, "max": 1000, "tooltip": "Process at most this many faces per image (0 = all)."})
ORDER = (
    ["largest", "left_to_right", "right_to_left", "top_to_bottom"],
    {"default": "largest", "tooltip": "Face order, used by max_faces and indices."},
)
INDICES = ("STRING", {"default": "", "tooltip": "Only these faces, by position in the order above, e.g. '0,2'. Empty = all."})
SELECTION_MASK = ("MASK", {"tooltip": "Optional: only faces whose box centre lies inside this mask are processed."})
FEATHER = ("FLOAT", {"default": 0.06, "min": 0.0, "max": 0.5, "step": 0.01,
                     "tooltip": "Soft edge of the pasted face, as a fraction of the crop side."})
GROW = ("FLOAT", {"default": 0.0, "min": -0.25, "max": 0.3, "step": 0.01,
                  "tooltip": "Grow (positive) or shrink (negative) the pasted face region, as a fraction of the crop side."})
COLOR_MATCH = ("BOOLEAN", {"default": False, "tooltip": "Match the new face's colour and brightness to the original skin."})
BATCH_SIZE = ("INT", {"default": 4, "min": 1, "max": 64, "tooltip": "Faces per UNet call (more is faster on a big GPU)."})
FAIL_CLOSED = ("BOOLEAN", {"default": True, "tooltip": "Redact any detected face that could not be anonymized (too "
                           "small, sampler error, invalid output) instead of leaving it unchanged."})
FALLBACK = (["blur", "pixelate", "black", "fill"], {"default": "blur", "tooltip": "How fail-closed faces are redacted."})
ON_NO_FACE = (["passthrough", "error"], {"default": "passthrough", "tooltip": "When an image has no face: pass it "
                                         "through unchanged (with a warning in the log), or stop the graph with an error."})
