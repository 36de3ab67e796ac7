# SPDX-License-Identifier: AGPL-3.0-or-later
"""Face detector loader node (YuNet), with the optional, user-requested download."""

from __future__ import annotations

from ..core.faces import DETECTION_MODES, FaceDetector
from ..core.model_files import YUNET, human_size, record
from .paths import AUTO, file_choices, model_file

DETECTOR_FILES = (YUNET.key,)  # the catalog files this node's detector runs, listed in its file dropdown


class FaceAnonDetectorLoader:
    DESCRIPTION = (
        "Loads the YuNet face detector (OpenCV Zoo, MIT) from models/face_anon/detectors/. It runs at several "
        f"scales, so tiny and very large faces are found. Tick 'download' once to fetch it ({human_size(YUNET.size)})."
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
                "download": ("BOOLEAN", {"default": False, "tooltip": f"Download {YUNET.file_name} if it is missing. "
                                         "Nothing is downloaded unless this is on."}),
            },
            "optional": {  # optional, so API-format prompts written before they existed still validate
                "mode": (list(DETECTION_MODES), {"default": "accurate", "tooltip": "accurate: "
                         f"{DETECTION_MODES['accurate'].description}. fast: {DETECTION_MODES['fast'].description}."}),
                "detector_file": (file_choices([record(key) for key in DETECTOR_FILES]), {"default": AUTO, "tooltip": (
                    "The detector file, from those found in models/face_anon/detectors/. auto: "
                    f"{YUNET.file_name}, else another {' or '.join(YUNET.patterns)} file such as the int8 variants.")}),
            },
        }

    def load(self, score_threshold, download, mode="accurate", detector_file=AUTO):
        path = model_file(record(YUNET.key), detector_file, download, "detector_file")
        return (FaceDetector(path, score_threshold=score_threshold, mode=mode),)
