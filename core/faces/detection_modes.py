# SPDX-License-Identifier: AGPL-3.0-or-later
"""The detection modes users choose from, and the detector each one builds."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import FaceAnonError
from ..options import DETECTION
from .ensemble import RECALL_DESCRIPTION, RecallDetector
from .face import Detector
from .yunet import YUNET_MODES, FaceDetector

DEFAULT_DETECTION_MODE = DETECTION.default
DETECTION_MODES = {  # name -> what it does, for tooltips and --help
    "recall": RECALL_DESCRIPTION,
    **{name: mode.description for name, mode in YUNET_MODES.items()},
}
# The catalog files (`core.model_catalog` keys) each mode runs.
MODE_MODEL_FILES = {"recall": ("yunet", "centerface"), "accurate": ("yunet",), "fast": ("yunet",)}


def load_detector(
    mode: str = DEFAULT_DETECTION_MODE,
    models_dir: str | os.PathLike | None = None,
    *,
    score_threshold: float | None = None,
    model_paths: Mapping[str, os.PathLike | str] | None = None,
) -> Detector:
    """The detector of `mode`, its model files taken from `<models_dir>/detectors/`.

    `score_threshold` applies to the YuNet-only modes; "recall" uses the thresholds calibrated for
    the two models together (`ensemble.RECALL_THRESHOLDS`). `model_paths` maps catalog keys of
    `MODE_MODEL_FILES[mode]` to files chosen by the caller (e.g. a node's file dropdown).
    """
    paths = dict(model_paths or {})
    if mode == "recall":
        return RecallDetector(paths.get("yunet"), paths.get("centerface"), models_dir=models_dir)
    if mode in YUNET_MODES:
        extra = {} if score_threshold is None else {"score_threshold": score_threshold}
        return FaceDetector(paths.get("yunet"), models_dir=models_dir, mode=mode, **extra)
    raise FaceAnonError(f"detection mode: expected one of {', '.join(DETECTION_MODES)}, got {mode!r}")
