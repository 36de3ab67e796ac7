# SPDX-License-Identifier: AGPL-3.0-or-later
"""Identity verifier loader node (SFace + YuNet), with the optional, user-requested download."""

from __future__ import annotations

import os

from ..core.faces import FaceDetector, download_model_file, find_model_file
from ..core.faces.model_files import MODEL_FILES
from ..core.verification import SFACE_COSINE_THRESHOLD, VERIFICATION_SCORE_THRESHOLD, IdentityVerifier
from ..core.verified_faces import Verification
from .paths import model_roots

RECOGNIZER_FILE = MODEL_FILES["recognizer"].file_name
VERIFIER = ("FACEANON_VERIFIER", {"tooltip": "Optional: the identity verifier from FaceAnon Load Identity Verifier. "
                                  "Faces still recognizable after anonymizing are generated again, then redacted."})


def _models_root(role: str) -> str | None:
    roots = model_roots()
    return next((root for root in roots if find_model_file(role, root)), roots[0] if roots else None)


class FaceAnonVerifierLoader:
    DESCRIPTION = (
        "Loads SFace face recognition (OpenCV Zoo, Apache-2.0) from models/face_anon/recognizers/ and the YuNet "
        "detector, to check that every anonymized face no longer matches the original person. Connect it to "
        "FaceAnon Anonymize Faces in Image: recognizable faces are retried with a new seed and a stronger degree, "
        "then redacted. Tick 'download' once to fetch the models (about 37 MB)."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "load"
    RETURN_TYPES = ("FACEANON_VERIFIER",)
    RETURN_NAMES = ("verifier",)
    OUTPUT_TOOLTIPS = ("An identity verifier and its retry policy, for FaceAnon Anonymize Faces in Image.",)

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "similarity_threshold": ("FLOAT", {
                    "default": SFACE_COSINE_THRESHOLD, "min": 0.0, "max": 1.0, "step": 0.001,
                    "tooltip": "A face whose cosine similarity to the original is at least this is still "
                    "recognizable. 0.363 is OpenCV's SFace 'same person' threshold; lower is stricter."}),
                "max_retries": ("INT", {"default": 2, "min": 0, "max": 10, "tooltip": "How many times a recognizable "
                                "face is generated again (new seed, stronger degree) before it is redacted."}),
                "degree_step": ("FLOAT", {"default": 0.1, "min": 0.0, "max": 1.0, "step": 0.05, "tooltip": "How much "
                                "the degree grows at each retry."}),
                "max_degree": ("FLOAT", {"default": 1.5, "min": 0.1, "max": 3.0, "step": 0.05, "tooltip": "Retries "
                               "never go above this degree (faces become invalid above about 1.5)."}),
                "download": ("BOOLEAN", {"default": False, "tooltip": f"Download {RECOGNIZER_FILE} (and the detector) "
                             "if missing. Nothing is downloaded unless this is on."}),
            }
        }

    def load(self, similarity_threshold, max_retries, degree_step, max_degree, download):
        roots = {role: _models_root(role) for role in ("recognizer", "detector")}
        if download:
            for role, root in roots.items():
                if root is None or find_model_file(role, root) is None:
                    download_model_file(role, os.path.join(root, MODEL_FILES[role].subfolder) if root else None)
        detector = FaceDetector(models_dir=roots["detector"], score_threshold=VERIFICATION_SCORE_THRESHOLD)
        verifier = IdentityVerifier(models_dir=roots["recognizer"], detector=detector, threshold=similarity_threshold)
        return (Verification(verifier, similarity_threshold, max_retries, degree_step, max_degree),)
