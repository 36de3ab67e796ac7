"""Input declarations shared by several nodes, so each has one tooltip and one default."""

from ..core.pipeline import DEFAULT_DEGREE, DEFAULT_GUIDANCE, DEFAULT_SIZE, DEFAULT_STEPS
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
STEPS = ("INT", {"default": DEFAULT_STEPS, "min": 1, "max": 1000, "tooltip": "Denoising steps (25 is the in-the-wild default; 50-200 for the finest detail)."})
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
