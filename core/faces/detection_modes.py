# SPDX-License-Identifier: AGPL-3.0-or-later
"""The detection modes users choose from, and the detector each one builds."""

from __future__ import annotations

import os

from ..errors import FaceAnonError
from .ensemble import RECALL_DESCRIPTION, RecallDetector
from .face import Detector
from .yunet import YUNET_MODES, FaceDetector

DEFAULT_DETECTION_MODE = "recall"
DETECTION_MODES = {  # name -> what it does, for tooltips and --help
    "recall": RECALL_DESCRIPTION,
    **{name: mode.description for name, mode in YUNET_MODES.items()},
}
# The model files (roles in model_files.MODEL_FILES) each mode needs.
MODE_MODEL_FILES = {"recall": ("detector", "centerface"), "accurate": ("detector",), "fast": ("detector",)}


def load_detector(
    mode: str = DEFAULT_DETECTION_MODE,
    models_dir: str | os.PathLike | None = None,
    *,
    score_threshold: float | None = None,
) -> Detector:
    """The detector of `mode`, its model files taken from `<models_dir>/detectors/`.

    `score_threshold` applies to the YuNet-only modes; "recall" uses the thresholds calibrated for
    the two models together (`ensemble.RECALL_THRESHOLDS`).
    """
    if mode == "recall":
        return RecallDetector(models_dir=models_dir)
    if mode in YUNET_MODES:
        extra = {} if score_threshold is None else {"score_threshold": score_threshold}
        return FaceDetector(models_dir=models_dir, mode=mode, **extra)
    raise FaceAnonError(f"detection mode: expected one of {', '.join(DETECTION_MODES)}, got {mode!r}")
