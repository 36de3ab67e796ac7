# SPDX-License-Identifier: AGPL-3.0-or-later
"""The check users run with the real weights: fp32 against the faster precision, by face recognition."""

import re

import torch
from conftest import SFACE, TINY_MODEL
from faceanon.cli import main
from faceanon.core import FaceAnonPipeline
from faceanon.core.faces import load_detector
from faceanon.core.precision_comparison import compare_precisions
from faceanon.core.verification import IdentityVerifier

import test_cli
from test_cli import _pixels, _save_photo

models = test_cli.models  # the tiny model and the shipped detectors, laid out as the CLI expects
models_with_recognizer = test_cli.models_with_recognizer
TWO = "ageitgey__examples_two_people.jpg"


def _load(dtype):
    return FaceAnonPipeline.from_pretrained(TINY_MODEL, device="cpu", dtype=dtype)


def test_one_record_per_face_and_identical_precisions_agree_fully(models, tmp_path):
    photo = _pixels(_save_photo(TWO, tmp_path / "two.jpg", max_side=400))
    detector = load_detector("recall", models)
    verifier = IdentityVerifier(SFACE, models_dir=models)
    same = compare_precisions(_load, [("two.jpg", photo)], detector, verifier, torch.float32, steps=1)
    assert [(a.photo, a.face) for a in same] == [("two.jpg", 0), ("two.jpg", 1)]
    for agreement in same:
        assert agreement.precision == "fp32" and agreement.largest_change == 0
        assert agreement.between_results > 0.999
        assert agreement.fp32_to_original == agreement.other_to_original < 0.999

    other = compare_precisions(_load, [("two.jpg", photo)], detector, verifier, torch.bfloat16, steps=1)
    assert [a.precision for a in other] == ["bf16", "bf16"]
    assert all(a.largest_change > 0 for a in other), "bf16 rounds differently, so some pixel differs"
    assert [a.fp32_to_original for a in other] == [a.fp32_to_original for a in same], "fp32 is the fixed reference"


def test_doctor_compare_precision_prints_every_face_and_a_summary(models_with_recognizer, tmp_path, capsys):
    photo = _save_photo(TWO, tmp_path / "two.jpg", max_side=400)
    status = main(["doctor", "--models", str(models_with_recognizer), "--device", "cpu", "--dtype", "bf16",
                   "--compare-precision", str(photo), "--steps", "1"])
    captured = capsys.readouterr()
    assert "fp32 against bf16" in captured.err
    faces = [line for line in captured.out.splitlines() if line.startswith("  two.jpg face ")]
    assert len(faces) == 2 and all("the two new faces are alike at" in line for line in faces)
    summary = captured.out.splitlines()[-1]
    counts = re.fullmatch(r"2 face\(s\)\. The same new person in fp32 and bf16 .*: (\d)/2\. Not the original "
                          r"person \(below [\d.]+\): fp32 (\d)/2, bf16 (\d)/2\.", summary)
    assert counts, summary
    alike, fp32_private, bf16_private = map(int, counts.groups())
    assert status == (0 if alike == 2 and fp32_private == bf16_private else 1)


def test_doctor_compare_precision_names_an_unreadable_photo(models_with_recognizer, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    status = main(["doctor", "--models", str(models_with_recognizer), "--device", "cpu",
                   "--compare-precision", str(broken)])
    assert status == 2
    assert f"--compare-precision {broken}" in capsys.readouterr().err
