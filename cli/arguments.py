# SPDX-License-Identifier: AGPL-3.0-or-later
"""The argument parser: one subcommand per job, options shared where the jobs share them."""

from __future__ import annotations

import argparse
import math

from ..core import options
from ..core.catalog.model_catalog import GROUPS
from ..core.options import Option

DOWNLOAD_TARGETS = ("all", *GROUPS)
DEFAULT_BATCH = options.BATCH_SIZE.default
DEFAULT_PHOTOS_IN_MEMORY = 8
DEFAULT_MEGAPIXELS_IN_MEMORY = 200.0  # e.g. 8 photos of 24 MP: 0.6 GB as 8-bit RGB, as much again for the results
MODELS_HELP = "models folder (default: $FACEANON_MODELS, else ~/.cache/faceanon)"


def _ranged(convert, low, high=None, *, low_open=False):
    """An argparse type: ``convert`` the text, then check low <= value <= high (low < value if low_open)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            kind = "a whole number" if convert is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        too_low = value <= low if low_open else value < low
        if too_low or (high is not None and value > high):
            bounds = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    return parse


def _add(parser, option: Option, flag: str, *, metavar: str | None = None, **narrowed) -> None:
    """``flag`` for ``option``: its default, choices or range (``narrowed`` may narrow it) and its help."""
    bounds = {"low": option.low, "high": option.high, "low_open": option.low_open, **narrowed}
    kwargs = {"default": option.default}  # the attribute stays the flag's own name (args.min_face, args.batch)
    shown = option.default if option.default != "" else "none"
    if option.kind is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
        shown = "on" if option.default else "off"
    elif option.choices:
        kwargs["choices"] = option.choices
    else:
        kwargs["type"] = _ranged(option.kind, bounds["low"], bounds["high"], low_open=bounds["low_open"])
        kwargs["metavar"] = metavar
    parser.add_argument(flag, help=f"{option.help} (default {shown})", **kwargs)


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
    _add(group, options.FRAMING, "--framing")
    _add(group, options.MIN_SIZE, "--min-face", metavar="PX")
    _add(group, options.MAX_FACES, "--max-faces", metavar="N")
    _add(group, options.ORDER, "--order")
    _add(group, options.DETECTION, "--detection")
    group.add_argument("--review", metavar="DIR",
                       help="also write, per input, DIR/<name>.review.png: the result with each face's box, score "
                            "and the model that found it, to check by eye (existing files are never replaced)")


def _generation_options(parser: argparse.ArgumentParser, with_degree: bool) -> None:
    group = parser.add_argument_group("generation")
    if with_degree:
        _add(group, options.DEGREE, "--degree", low_open=True)  # degree 0 is a swap: that is the swap command
    _add(group, options.STEPS, "--steps")
    _add(group, options.GUIDANCE, "--guidance")
    _add(group, options.SEED, "--seed")  # face j uses seed + j, wrapping around past the largest seed
    _add(group, options.SCHEDULER, "--scheduler")
    _add(group, options.BATCH_SIZE, "--batch", metavar="N")
    group.add_argument("--max-photos-in-memory", type=_ranged(int, 1, 4096), default=DEFAULT_PHOTOS_IN_MEMORY,
                       metavar="N", help="photos read before their faces are generated together "
                                         f"(default {DEFAULT_PHOTOS_IN_MEMORY})")
    group.add_argument("--max-megapixels-in-memory", type=_ranged(float, 0, low_open=True),
                       default=DEFAULT_MEGAPIXELS_IN_MEMORY, metavar="MP",
                       help="... or until their pixels reach MP million (default "
                            f"{DEFAULT_MEGAPIXELS_IN_MEMORY:g}; one photo is always taken, however large)")
    group.add_argument("--aligned", action="store_true",
                       help="inputs are aligned 512x512 face crops: no detection, each whole image is a face")
    _add(group, options.FAIL_CLOSED, "--fail-closed")
    _add(group, options.FALLBACK, "--fallback")
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
    _add(group, options.SIMILARITY_THRESHOLD, "--similarity-threshold", metavar="S")
    if with_retries:
        _add(group, options.MAX_RETRIES, "--max-retries", metavar="N")


def _device_options(parser) -> None:
    parser.add_argument("--device", help="torch device, e.g. cuda, cuda:1, mps, cpu (default: the best available)")
    _add(parser, options.PRECISION, "--dtype")


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
    redact.add_argument("--method", choices=options.REDACTION_METHODS, default="blur", help="redaction (default blur)")
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
    _add(doctor, options.STEPS, "--steps")
    _device_options(doctor)
    return parser
