# SPDX-License-Identifier: AGPL-3.0-or-later
"""Option values, spelled out here so ``faceanon --help`` answers without importing torch or OpenCV.

tests/test_cli.py checks them against the core's own lists.
"""

SCHEDULERS = ("ddpm", "ddim", "euler", "dpmpp_2m_karras", "unipc")
FRAMINGS = ("whole_face", "ffhq")
DETECTION_MODES = ("recall", "accurate", "fast")
FACE_ORDERS = ("largest", "left_to_right", "right_to_left", "top_to_bottom")
REDACTION_METHODS = ("blur", "pixelate", "black", "fill")
DTYPES = ("auto", "fp32", "fp16", "bf16")
DOWNLOAD_TARGETS = ("all", "model", "detector", "recognizer")
MAX_STEPS = 999
