# SPDX-License-Identifier: AGPL-3.0-or-later
"""The argument parser: one subcommand per job, options shared where the jobs share them."""

from __future__ import annotations

import argparse
import math

from ..core.seeds import MAX_SEED
from .choices import (
    DETECTION_MODES,
    DOWNLOAD_TARGETS,
    DTYPES,
    FACE_ORDERS,
    FRAMINGS,
    MAX_STEPS,
    REDACTION_METHODS,
    SCHEDULERS,
)

DEFAULT_BATCH = 4
DEFAULT_PHOTOS_IN_MEMORY = 8
DEFAULT_MEGAPIXELS_IN_MEMORY = 200.0  # e.g. 8 photos of 24 MP: 0.6 GB as 8-bit RGB, as much again for the results
MODELS_HELP = "models folder (default: $FACEANON_MODELS, else ~/.cache/faceanon)"


def _ranged(convert, low, high=None, *, low_open=False):
    """An argparse type: ``convert`` the text, then check low <= value <= high (low < value if low_open)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {convert.__name__} number, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value > high):
            bounds = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    return parse


def _file_options(parser: argparse.ArgumentParser, what: str = "INPUT") -> None:
    parser.add_argument("inputs", nargs="+", metavar=what,
                        help="image files, folders or quoted glob patterns (jpg, png, webp, bmp, tif, gif)")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                        help="folder for the results; each keeps its input's relative path, name and format")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="look into subfolders of folder inputs (and let ** in patterns match folders)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace files that exist at result paths (default: skip the results this tool wrote "
                             "for the same input and settings, so a run can be resumed, and fail on any other file)")
    parser.add_argument("--report", metavar="FILE.json",
                        help="write per-file, per-face records to this JSON file (never over an input, a result or "
                             "another existing file, unless --overwrite for the latter)")
    parser.add_argument("--wait", action="store_true",
                        help="when another run is using OUTDIR, wait for it to finish (default: refuse to start)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")


def _model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", metavar="DIR",
                        help="models folder: DIR/face-anon-simple and DIR/detectors "
                             "(default: $FACEANON_MODELS, else ~/.cache/faceanon)")
    parser.add_argument("--download", action="store_true",
                        help="download missing model files first (prints their total size)")


def _face_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("faces")
    group.add_argument("--framing", choices=FRAMINGS, default="whole_face",
                       help="crop around each face: whole_face (default) or ffhq")
    group.add_argument("--min-face", type=_ranged(float, 0), default=0.0, metavar="PX",
                       help="ignore faces whose box is smaller than PX pixels (default 0: every face)")
    group.add_argument("--max-faces", type=_ranged(int, 0), default=0, metavar="N",
                       help="process at most N faces per image, in --order (default 0: all)")
    group.add_argument("--order", choices=FACE_ORDERS, default="largest", help="face order (default largest)")
    group.add_argument("--detection", choices=DETECTION_MODES, default="recall",
                       help="recall (default): YuNet and CenterFace together, for photos and crowds (faces from "
                            "10 px, close-ups, faces cut by the border; needs DIR/detectors/centerface.onnx); "
                            "accurate: YuNet alone, faces from 15 px at 1080p; fast: faces from 30 px at 1080p, "
                            "~40 ms a 1080p frame on one core, for video frames")
    group.add_argument("--review", metavar="DIR",
                       help="also write, per input, DIR/<name>.review.png: the result with each face's box, score "
                            "and the model that found it, to check by eye (existing files are never replaced)")


def _generation_options(parser: argparse.ArgumentParser, with_degree: bool) -> None:
    group = parser.add_argument_group("generation")
    if with_degree:
        group.add_argument("--degree", type=_ranged(float, 0, low_open=True), default=1.25,
                           help="anonymization degree, > 0 (default 1.25; 1.2-1.3 recommended)")
    group.add_argument("--steps", type=_ranged(int, 1, MAX_STEPS), default=25,
                       help=f"sampling steps, 1..{MAX_STEPS} (default 25)")
    group.add_argument("--guidance", type=_ranged(float, 1, 100), default=4.0,
                       help="classifier-free guidance (default 4; 1 disables it and runs twice as fast)")
    group.add_argument("--seed", type=_ranged(int, 0, MAX_SEED), default=0,
                       help="seed; face j of every image uses seed + j, wrapping past the largest (default 0)")
    group.add_argument("--scheduler", choices=SCHEDULERS, default="ddpm", help="sampler (default ddpm)")
    group.add_argument("--batch", type=_ranged(int, 1, 256), default=DEFAULT_BATCH, metavar="N",
                       help=f"faces per UNet call, gathered across the photos in memory (default {DEFAULT_BATCH})")
    group.add_argument("--max-photos-in-memory", type=_ranged(int, 1, 4096), default=DEFAULT_PHOTOS_IN_MEMORY,
                       metavar="N", help="photos read before their faces are generated together "
                                         f"(default {DEFAULT_PHOTOS_IN_MEMORY})")
    group.add_argument("--max-megapixels-in-memory", type=_ranged(float, 0, low_open=True),
                       default=DEFAULT_MEGAPIXELS_IN_MEMORY, metavar="MP",
                       help="... or until their pixels reach MP million (default "
                            f"{DEFAULT_MEGAPIXELS_IN_MEMORY:g}; one photo is always taken, however large)")
    group.add_argument("--aligned", action="store_true",
                       help="inputs are aligned 512x512 face crops: no detection, each whole image is a face")
    group.add_argument("--fail-closed", action=argparse.BooleanOptionalAction, default=True,
                       help="redact a face that cannot be generated instead of failing the file (default on)")
    group.add_argument("--fallback", choices=REDACTION_METHODS, default="blur",
                       help="how --fail-closed redacts (default blur)")
    _device_options(group)


def _verification_options(parser: argparse.ArgumentParser, with_retries: bool = True) -> None:
    group = parser.add_argument_group("verification")
    if with_retries:
        group.add_argument("--verify", action="store_true",
                           help="check every anonymized face with face recognition (SFace, in DIR/recognizers); "
                                "retry the recognizable ones with a new seed and a stronger degree, then redact them")
    else:
        group.add_argument("--verify", action="store_true",
                           help="check every redacted face with face recognition (SFace, in DIR/recognizers) and "
                                "black out the ones it still matches to the original")
    group.add_argument("--similarity-threshold", type=_ranged(float, -1, 1), default=0.363, metavar="S",
                       help="cosine similarity at or above which a face counts as recognizable (default 0.363, "
                            "OpenCV's SFace 'same person' value)")
    if with_retries:
        group.add_argument("--max-retries", type=_ranged(int, 0, 10), default=2, metavar="N",
                           help="new attempts for a recognizable face before it is redacted (default 2)")


def _device_options(parser) -> None:
    parser.add_argument("--device", help="torch device, e.g. cuda, cuda:1, mps, cpu (default: the best available)")
    parser.add_argument("--dtype", choices=DTYPES, default="auto",
                        help="precision (default auto: fp16 on GPUs; on CPUs bf16 where computed natively (AMX, AVX-512 BF16), else fp32; fp32 matches the reference implementation exactly)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceanon",
        description="Face Anonymization Made Simple: replace the identity of every face in your photos, "
                    "keeping expression, pose, lighting and background.",
        epilog="Exit status: 0 every file processed (or skipped), 1 a file or the set-up failed, 2 bad arguments.",
    )
    commands = parser.add_subparsers(dest="command", required=True, title="commands")

    anonymize = commands.add_parser("anonymize", help="anonymize every face in images",
                                    description="Give every selected face a new identity.")
    _file_options(anonymize)
    _generation_options(anonymize, with_degree=True)
    _verification_options(anonymize)
    _face_options(anonymize)
    _model_options(anonymize)

    swap = commands.add_parser("swap", help="put one person's face on every face in images (with consent!)",
                               description="Put the largest face of --source on every selected face of the "
                                           "targets. Only with the consent of everyone involved; label the "
                                           "results as synthetic.")
    swap.add_argument("--source", required=True, metavar="FACE", help="image with the face to put on the targets")
    _file_options(swap, "TARGET")
    _generation_options(swap, with_degree=False)
    _face_options(swap)
    _model_options(swap)

    redact = commands.add_parser("redact", help="blur, pixelate or blank faces (detector only, no diffusion model)",
                                 description="Classic redaction of every selected face; needs only the face detector.")
    _file_options(redact)
    redact.add_argument("--method", choices=REDACTION_METHODS, default="blur", help="redaction (default blur)")
    _verification_options(redact, with_retries=False)
    _face_options(redact)
    _model_options(redact)

    download = commands.add_parser("download", help="download the model files that are missing",
                                   description="Download missing model files (about 12 GB for the diffusion model).")
    download.add_argument("--what", choices=DOWNLOAD_TARGETS, default="all",
                          help="model (diffusion weights), detector (YuNet, and CenterFace for the recall mode), "
                               "recognizer, or all (default)")
    download.add_argument("--models", metavar="DIR", help=MODELS_HELP)

    doctor = commands.add_parser("doctor", help="show versions, model files, device and precision",
                                 description="Show what is installed, which model files are present or missing, "
                                             "and the device and precision a run would use.")
    doctor.add_argument("--models", metavar="DIR", help=MODELS_HELP)
    doctor.add_argument("--compare-precision", nargs="+", metavar="PHOTO",
                        help="anonymize these photos in fp32 and in the faster precision (--dtype, else what auto "
                             "picks, else bf16) with the real model, and print how alike the results are by face "
                             "recognition; exit 1 when a face differs in identity")
    doctor.add_argument("--steps", type=_ranged(int, 1, MAX_STEPS), default=25,
                        help="sampling steps for --compare-precision (default 25, as a run)")
    _device_options(doctor)
    return parser
