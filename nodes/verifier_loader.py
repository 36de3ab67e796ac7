# SPDX-License-Identifier: AGPL-3.0-or-later
"""Identity verifier loader node (SFace + YuNet), with the optional, user-requested download."""

from __future__ import annotations

from ..core.catalog.model_files import SFACE, YUNET, human_size, record
from ..core.engine.verification import VERIFICATION_SCORE_THRESHOLD, IdentityVerifier
from ..core.engine.verified_faces import VerificationPolicy
from ..core.faces import FaceDetector
from .inputs import DEGREE_STEP, MAX_DEGREE, MAX_RETRIES, SIMILARITY_THRESHOLD
from .paths import AUTO, file_choices, model_file

VERIFIER = ("FACEANON_VERIFIER", {"tooltip": "Optional: the identity verifier from FaceAnon Load Identity Verifier. "
                                  "Faces still recognizable after anonymizing are generated again, then redacted."})


class FaceAnonVerifierLoader:
    DESCRIPTION = (
        "Loads SFace face recognition (OpenCV Zoo, Apache-2.0) from models/face_anon/recognizers/ and the YuNet "
        "detector, to check that every anonymized face no longer matches the original person. Connect it to "
        "FaceAnon Anonymize Faces in Image: recognizable faces are retried with a new seed and a stronger degree, "
        f"then redacted. Tick 'download' once to fetch the models (about {human_size(SFACE.size + YUNET.size)})."
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
                "similarity_threshold": SIMILARITY_THRESHOLD, "max_retries": MAX_RETRIES,
                "degree_step": DEGREE_STEP, "max_degree": MAX_DEGREE,
                "download": ("BOOLEAN", {"default": False, "tooltip": f"Download {SFACE.file_name} (and the detector) "
                             "if missing. Nothing is downloaded unless this is on."}),
            },
            "optional": {  # optional, so API-format prompts written before it existed still validate
                "recognizer_file": (file_choices([record(SFACE.key)]), {"default": AUTO, "tooltip": (
                    "The recognizer file, from those found in models/face_anon/recognizers/. auto: "
                    f"{SFACE.file_name}, else another {' or '.join(SFACE.patterns)} file such as the int8 variants.")}),
            },
        }

    def load(self, similarity_threshold, max_retries, degree_step, max_degree, download, recognizer_file=AUTO):
        recognizer = model_file(record(SFACE.key), recognizer_file, download, "recognizer_file")
        detector = FaceDetector(model_file(record(YUNET.key), AUTO, download, "detector"),
                                score_threshold=VERIFICATION_SCORE_THRESHOLD)
        verifier = IdentityVerifier(recognizer, detector=detector)
        return (VerificationPolicy(verifier, similarity_threshold, max_retries, degree_step, max_degree),)
