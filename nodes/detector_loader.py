# SPDX-License-Identifier: AGPL-3.0-or-later
"""Face detector loader node (YuNet), with the optional, user-requested download."""

from __future__ import annotations

import os

from ..core.faces import DETECTION_MODES, FaceDetector, download_detector, find_model_file
from ..core.faces.model_files import MODEL_FILES
from .paths import model_roots

DETECTOR_FILE = MODEL_FILES["detector"].file_name


def _models_root() -> str | None:
    roots = model_roots()
    return next((root for root in roots if find_model_file("detector", root)), roots[0] if roots else None)


class FaceAnonDetectorLoader:
    DESCRIPTION = (
        "Loads the YuNet face detector (OpenCV Zoo, MIT) from models/face_anon/detectors/. It runs at several "
        "scales, so tiny and very large faces are found. Tick 'download' once to fetch it (230 KB)."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "load"
    RETURN_TYPES = ("FACEANON_DETECTOR",)
    RETURN_NAMES = ("detector",)
    OUTPUT_TOOLTIPS = ("A face detector for the FaceAnon in-the-wild nodes.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "score_threshold": ("FLOAT", {"default": 0.9, "min": 0.1, "max": 1.0, "step": 0.01,
                                              "tooltip": "Minimum detection confidence. 0.9 avoids false faces; "
                                              "lower it to catch hard faces (then check the results)."}),
                "download": ("BOOLEAN", {"default": False, "tooltip": f"Download {DETECTOR_FILE} if it is missing. "
                                         "Nothing is downloaded unless this is on."}),
            },
            "optional": {  # optional, so API-format prompts written before it existed still validate
                "mode": (list(DETECTION_MODES), {"default": "accurate", "tooltip": "accurate: "
                         f"{DETECTION_MODES['accurate'].description}. fast: {DETECTION_MODES['fast'].description}."}),
            },
        }

    def load(self, score_threshold, download, mode="accurate"):
        root = _models_root()
        if download and (root is None or find_model_file("detector", root) is None):
            download_detector(os.path.join(root, "detectors") if root else None)
        return (FaceDetector(score_threshold=score_threshold, models_dir=root, mode=mode),)
