# SPDX-License-Identifier: AGPL-3.0-or-later
"""Node inputs built from core's option records (core/options.py), so that a node and the CLI share each
option's default, range, choices and help."""

from ..core import options
from ..core.model.pipeline import DEFAULT_SIZE
from ..core.options import Option

_WIDGETS = {bool: "BOOLEAN", int: "INT", float: "FLOAT", str: "STRING"}


def node_input(option: Option, *, tooltip: str = "", **narrowed) -> tuple:
    """The ComfyUI input tuple of ``option``; ``narrowed`` narrows its widget (e.g. a smaller maximum)."""
    text = option.help[0].upper() + option.help[1:] + "." + (f" {tooltip}" if tooltip else "")
    if option.choices:
        return list(option.choices), {"default": option.default, "tooltip": text}
    spec = {"default": option.default}
    for key, value in (("min", option.low), ("max", option.high), ("step", option.step)):
        if value is not None:
            spec[key] = value
    return _WIDGETS[option.kind], {**spec, **narrowed, "tooltip": text}


MODEL = ("FACEANON_MODEL", {"tooltip": "The model from FaceAnon Load Model."})
DEGREE = node_input(options.DEGREE)
# ComfyUI's "control after generate" adds to the seed after each run; the headroom keeps it in range.
SEED = node_input(options.SEED, max=options.MAX_SEED - 4096, control_after_generate=True)
STEPS = node_input(options.STEPS)
GUIDANCE = node_input(options.GUIDANCE)
SCHEDULER = node_input(options.SCHEDULER)
SIZE = {"default": DEFAULT_SIZE, "min": 64, "max": 2048, "step": 8}
WIDTH = ("INT", {**SIZE, "tooltip": "Width the face is processed at (the model was trained at 512)."})
HEIGHT = ("INT", {**SIZE, "tooltip": "Height the face is processed at (the model was trained at 512)."})

DETECTOR = ("FACEANON_DETECTOR", {"tooltip": "The face detector from FaceAnon Load Face Detector."})
FRAMING = node_input(options.FRAMING)
MIN_SIZE = node_input(options.MIN_SIZE)
MAX_FACES = node_input(options.MAX_FACES)
ORDER = node_input(options.ORDER)
INDICES = node_input(options.INDICES)
SELECTION_MASK = ("MASK", {"tooltip": "Optional: only faces whose box centre lies inside this mask are processed."})
FEATHER = node_input(options.FEATHER)
GROW = node_input(options.GROW)
COLOR_MATCH = node_input(options.COLOR_MATCH)
# A node's batch lives in one GPU's memory with ComfyUI's other models: 64 faces is already a lot there.
BATCH_SIZE = node_input(options.BATCH_SIZE, max=64)
FAIL_CLOSED = node_input(options.FAIL_CLOSED)
FALLBACK = node_input(options.FALLBACK)
ON_NO_FACE = node_input(options.ON_NO_FACE_OPTION)
PRECISION = node_input(options.PRECISION)
# Negative similarities mean "unlike": a threshold there would call every face recognizable.
SIMILARITY_THRESHOLD = node_input(options.SIMILARITY_THRESHOLD, min=0.0)
MAX_RETRIES = node_input(options.MAX_RETRIES)
DEGREE_STEP = node_input(options.DEGREE_STEP)
MAX_DEGREE = node_input(options.MAX_DEGREE)
