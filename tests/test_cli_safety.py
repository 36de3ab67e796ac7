# SPDX-License-Identifier: AGPL-3.0-or-later
"""The command line never loses a user's file and never lets a face go unmentioned: resuming skips only
recorded results, the report never replaces anything it should not, concurrent runs cannot collide,
multi-frame images are refused whole, unwritable folders are found before any work, faces left out by
the selection are reported, and photo memory is bounded apart from --batch.

Runs go through the CLI in subprocesses (``faceanon`` imported from the working tree), except where a
test must look inside the run (UNet batch sizes), which calls ``main`` in this process.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_MODEL, shared_file
from faceanon.cli import main
from faceanon.cli.atomic_files import write_atomically
from faceanon.core.seeds import MAX_SEED
from PIL import Image
import test_cli
from test_cli import FAST, _pixels, _run_cli, _save_photo

models, package_path = test_cli.models, test_cli.package_path  # test_cli's fixtures: the models folder, the package

OBAMA, BIDEN = "ageitgey__examples_obama.jpg", "ageitgey__examples_biden.jpg"
TWO = "ageitgey__examples_two_people.jpg"


@pytest.fixture
def shoot(tmp_path) -> Path:
    """A folder with two portraits, as a user would copy it."""
    folder = tmp_path / "shoot"
    _save_photo(OBAMA, folder / "a.jpg")
    _save_photo(BIDEN, folder / "b.jpg")
    return folder


def _redact(package_path, models, *args, env=None):
    return _run_cli(package_path, "redact", *args, "--models", str(models), "-q", env=env)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _statuses(report: Path) -> dict[str, str]:
    return {Path(f["input"]).name: f["status"] for f in json.loads(report.read_text())["files"]}


def _face_changed(original: Path, result: Path) -> bool:
    return np.abs(_pixels(original).astype(int) - _pixels(result).astype(int)).max() > 40


# -- resume: only recorded results are skipped -----------------------------------------------------------
def test_copies_of_the_originals_in_the_output_folder_are_errors_not_finished_results(
        shoot, models, package_path, tmp_path):
    out = tmp_path / "publish"
    shutil.copytree(shoot, out)  # the user copied the shoot to the folder they will publish
    report = tmp_path / "report.json"
    done = _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(report))
    assert done.returncode == 1, done.stderr
    assert f"{out / 'a.jpg'} exists but was not written by faceanon" in done.stderr
    assert _statuses(report) == {"a.jpg": "error", "b.jpg": "error"}
    assert _files(out) == _files(shoot), "the files found there are left as they were"
    assert "0 skipped" in done.stdout

    done = _redact(package_path, models, str(shoot), "-o", str(out), "--overwrite")
    assert done.returncode == 0, done.stderr
    assert _face_changed(shoot / "a.jpg", out / "a.jpg") and _face_changed(shoot / "b.jpg", out / "b.jpg")
    manifest = (out / ".faceanon-manifest.jsonl").read_text()
    assert len(manifest.splitlines()) == 2 and str(shoot) not in manifest and "shoot" not in manifest, \
        "the folder users publish does not name where the originals are"

    results = _files(out)
    done = _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(report))
    assert done.returncode == 0 and _statuses(report) == {"a.jpg": "skipped", "b.jpg": "skipped"}
    assert _files(out) == results


def test_results_of_other_settings_inputs_or_edits_are_not_taken_for_done(shoot, models, package_path, tmp_path):
    out = tmp_path / "out"
    assert _redact(package_path, models, str(shoot), "-o", str(out)).returncode == 0
    results = _files(out)

    other_settings = _redact(package_path, models, str(shoot), "-o", str(out), "--method", "pixelate")
    assert other_settings.returncode == 1 and other_settings.stderr.count("with other settings") == 2
    assert _files(out) == results

    shutil.copy(shared_file("faces", OBAMA), shoot / "a.jpg")  # a new version of a.jpg
    shutil.copy(shoot / "b.jpg", out / "b.jpg")  # and the original put over b's result
    report = tmp_path / "report.json"
    changed = _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(report))
    assert changed.returncode == 1
    assert "made from another input, or from" in changed.stderr and "changed after faceanon wrote it" in changed.stderr
    assert _statuses(report) == {"a.jpg": "error", "b.jpg": "error"}
    assert (out / "b.jpg").read_bytes() == (shoot / "b.jpg").read_bytes(), "nothing is overwritten without --overwrite"


# -- the report file --------------------------------------------------------------------------------------
def test_the_report_never_replaces_an_input_a_result_the_source_or_another_file(
        shoot, models, package_path, tmp_path):
    out = tmp_path / "out"
    before = _files(shoot)
    for report in (shoot / "a.jpg", shoot / "b.jpg"):
        done = _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(report), "--overwrite")
        assert done.returncode == 2 and f"--report {report}: that is the input" in done.stderr
    assert _files(shoot) == before and not out.exists(), "refused before any work"

    assert _redact(package_path, models, str(shoot), "-o", str(out)).returncode == 0
    results = _files(out)
    for report in (out / "a.jpg", out / ".faceanon-manifest.jsonl"):
        done = _redact(package_path, models, str(shoot / "a.jpg"), "-o", str(out), "--report", str(report),
                       "--overwrite")
        assert done.returncode == 2 and "--report" in done.stderr, done.stderr
    assert _files(out) == results

    source = tmp_path / "me.jpg"
    shutil.copy(shoot / "a.jpg", source)
    done = _run_cli(package_path, "swap", "--source", str(source), str(shoot / "b.jpg"), "-o", str(tmp_path / "swap"),
                    "--report", str(source), "--models", str(models), "-q")
    assert done.returncode == 2 and "that is the --source" in done.stderr
    assert source.read_bytes() == before["a.jpg"]

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    done = _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(notes))
    assert done.returncode == 2 and "exists and is not a faceanon report" in done.stderr
    assert notes.read_text() == "my notes"
    replaced = _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(notes), "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert _statuses(notes) == {"a.jpg": "done", "b.jpg": "done"}
    assert _redact(package_path, models, str(shoot), "-o", str(out), "--report", str(notes)).returncode == 0, \
        "an earlier report may be replaced"
    assert _statuses(notes) == {"a.jpg": "skipped", "b.jpg": "skipped"}


# -- folders that cannot be written -------------------------------------------------------------------------
def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").write_bytes(b"")
        (folder / ".probe").unlink()
        return True
    except OSError:
        return False


@contextmanager
def read_only(folder: Path):
    """``folder`` made read-only, even for root (which ignores permission bits): then with chattr +i."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    immutable = False
    if _writable(folder):
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if _writable(folder):
            pytest.skip("cannot make a read-only folder here")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)


def test_unwritable_output_and_report_folders_are_refused_before_any_work(shoot, models, package_path, tmp_path):
    with read_only(tmp_path / "locked") as locked:
        done = _redact(package_path, models, str(shoot), "-o", str(tmp_path / "out"),
                       "--report", str(locked / "report.json"))
        assert done.returncode == 2 and f"--report {locked}" in done.stderr and "cannot write" in done.stderr
        assert not (tmp_path / "out").exists(), "no result was made only to lose its report"
        for output in (locked, locked / "new"):
            done = _run_cli(package_path, "anonymize", str(shoot), "-o", str(output), "--models",
                            str(tmp_path / "no-models"), "-q")
            assert done.returncode == 2 and f"--output {output}" in done.stderr and "cannot write" in done.stderr, \
                "found before the models are even looked for"


# -- concurrent runs ------------------------------------------------------------------------------------------
def test_two_writers_of_one_result_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "result.png"
    write_atomically(target, b"first", before_replace=lambda: write_atomically(target, b"second"))
    assert target.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["result.png"]


HOLD_LOCK = ("import sys; from pathlib import Path; from faceanon.cli.folder_lock import FolderLock; "
             "lock = FolderLock(Path(sys.argv[1])); lock.acquire(); print('locked', flush=True); sys.stdin.readline()")


@contextmanager
def lock_holder(package_path, folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(package_path)})
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_into_a_busy_folder_refuses_or_waits(shoot, models, package_path, tmp_path):
    out = tmp_path / "out"
    with lock_holder(package_path, out) as holder:
        done = _redact(package_path, models, str(shoot), "-o", str(out))
        assert done.returncode == 1 and f"--output {out} is in use by another faceanon run" in done.stderr
        assert f"pid {holder.pid}" in done.stderr and "--wait" in done.stderr
        assert not (out / "a.jpg").exists()
        waiting = subprocess.Popen([sys.executable, "-m", "faceanon.cli", "redact", str(shoot), "-o", str(out),
                                    "--models", str(models), "-q", "--wait"], stderr=subprocess.PIPE, text=True,
                                   stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(package_path)})
        assert "Waiting for another faceanon run" in waiting.stderr.readline()
        assert not (out / "a.jpg").exists()
        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert waiting.wait(timeout=120) == 0
    assert (out / "a.jpg").is_file() and (out / "b.jpg").is_file() and not (out / ".faceanon.lock").exists()


def test_a_killed_run_does_not_leave_its_folder_locked(shoot, models, package_path, tmp_path):
    out = tmp_path / "out"
    with lock_holder(package_path, out) as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert f"pid {holder.pid}" in (out / ".faceanon.lock").read_text(), "the dead run's lock file is still there"
    done = _redact(package_path, models, str(shoot), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert (out / "a.jpg").is_file()


# -- multi-frame images -----------------------------------------------------------------------------------
def _frames(count: int) -> list[Image.Image]:
    photo = Image.open(shared_file("faces", OBAMA)).convert("RGB")
    photo.thumbnail((200, 200))
    return [photo.rotate(5 * i) for i in range(count)]


def test_multi_frame_images_are_refused_whole_and_alike_wherever_they_are_named(models, package_path, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    frames = _frames(3)
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(folder / "animated.webp", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(folder / "pages.tif", save_all=True, append_images=frames[1:])
    frames[0].save(folder / "still.gif")
    errors = {}
    for how, inputs in (("named", [str(p) for p in sorted(folder.iterdir())]), ("folder", [str(folder)])):
        out, report = tmp_path / f"out-{how}", tmp_path / f"{how}.json"
        done = _redact(package_path, models, *inputs, "-o", str(out), "--report", str(report))
        assert done.returncode == 1, done.stderr
        records = {Path(f["input"]).name: f for f in json.loads(report.read_text())["files"]}
        assert records["still.gif"]["status"] == "done" and records["still.gif"]["faces"]
        errors[how] = {name: r.get("error") for name, r in records.items() if r["status"] == "error"}
        assert set(errors[how]) == {"animated.gif", "animated.webp", "pages.tif"}
        assert all("has 3 frames" in message for message in errors[how].values())
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["still.gif"]
        with Image.open(out / "still.gif") as still:
            assert still.format == "GIF"
    assert errors["named"] == errors["folder"]


# -- faces the selection leaves out ---------------------------------------------------------------------------
def test_faces_left_out_by_the_selection_are_counted_and_listed(models, package_path, tmp_path):
    photo = _save_photo(TWO, tmp_path / "in" / "two.jpg", 400)
    for option, expected_reason in ((["--max-faces", "1"], "beyond --max-faces 1"),
                                    (["--min-face", "5000"], "smaller than --min-face 5000")):
        report = tmp_path / "report.json"
        done = _redact(package_path, models, str(photo), "-o", str(tmp_path / option[0]), "--report", str(report),
                       *option)
        assert done.returncode == 0, done.stderr
        data = json.loads(report.read_text())
        (record,) = data["files"]
        redacted, left_out = len(record["faces"]), record.get("not_selected", [])
        assert redacted + len(left_out) == 2 and left_out
        assert all(face["action"] == "detected, not selected" and face["reason"] == expected_reason
                   for face in left_out)
        assert data["summary"]["faces_found"] == 2 and data["summary"]["not_selected"] == len(left_out)
        assert f"detected, not selected (left unchanged by --min-face / --max-faces): {len(left_out)}" in done.stdout


# -- generation: memory, batching, seeds, devices, model files --------------------------------------------------
def _record_groups(monkeypatch):
    from faceanon.cli.photo_faces import PhotoFaces
    from faceanon.core.pipeline import FaceAnonPipeline

    groups, batches = [], []
    call, sample = PhotoFaces.__call__, FaceAnonPipeline.sample

    def recording_call(self, photos):
        groups.append(len(photos))
        return call(self, photos)

    def recording_sample(self, source, driving, *args, **kwargs):
        batches.append(driving.batch)
        return sample(self, source, driving, *args, **kwargs)

    monkeypatch.setattr(PhotoFaces, "__call__", recording_call)
    monkeypatch.setattr(FaceAnonPipeline, "sample", recording_sample)
    return groups, batches


def test_photos_in_memory_are_bounded_apart_from_the_batch(shoot, models, tmp_path, monkeypatch):
    _save_photo(OBAMA, shoot / "c.jpg", 200)
    groups, batches = _record_groups(monkeypatch)
    common = ["--models", str(models), "--device", "cpu", "--batch", "4", *FAST]
    assert main(["anonymize", str(shoot), "-o", str(tmp_path / "two"), "--max-photos-in-memory", "2", *common]) == 0
    assert groups == [2, 1] and batches == [2, 1]
    groups.clear(), batches.clear()
    assert main(["anonymize", str(shoot), "-o", str(tmp_path / "pixels"), "--max-megapixels-in-memory", "0.01",
                 *common]) == 0
    assert groups == [1, 1, 1], "a photo larger than the budget still goes, alone"
    groups.clear(), batches.clear()
    assert main(["anonymize", str(shoot), "-o", str(tmp_path / "all"), *common]) == 0
    assert groups == [3] and batches == [3]


def test_the_largest_seed_anonymizes_every_face_of_a_group_photo(models, tmp_path):
    photo = _save_photo(TWO, tmp_path / "in" / "two.jpg", 400)
    report = tmp_path / "report.json"
    assert main(["anonymize", str(photo), "-o", str(tmp_path / "out"), "--models", str(models), "--seed",
                 str(MAX_SEED), "--report", str(report), "--device", "cpu", *FAST]) == 0
    faces = json.loads(report.read_text())["files"][0]["faces"]
    assert [(face["action"], face["seed"]) for face in faces] == [("generated", MAX_SEED), ("generated", 0)]


@pytest.mark.parametrize("device", ["meta", "xpu", "cuda:9", "npu"])
def test_unavailable_devices_are_bad_arguments(shoot, models, package_path, tmp_path, device):
    done = _run_cli(package_path, "anonymize", str(shoot), "-o", str(tmp_path / "out"), "--models", str(models),
                    "--device", device, "-q")
    assert done.returncode == 2 and f"--device {device}" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_config_that_does_not_fit_its_weights_is_named_without_a_traceback(shoot, models, package_path, tmp_path):
    broken = tmp_path / "models"
    shutil.copytree(models, broken)
    config = broken / "face-anon-simple" / "unet" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "block_out_channels": [8, 24]}))
    done = _run_cli(package_path, "anonymize", str(shoot), "-o", str(tmp_path / "out"), "--models", str(broken), "-q")
    assert done.returncode == 1 and str(config) in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) < 5


def test_batching_changes_pixels_by_at_most_one_level_and_same_size_calls_not_at_all(pipeline):
    from faceanon.core.face_settings import Generation
    from faceanon.core.photos import generate_faces

    face = Image.open(Path(TINY_MODEL).parent / "inputs" / "img_a.png").convert("RGB")
    crops = [np.asarray(face.rotate(angle)) for angle in (0, 10, 20, 30, 40)]

    def generated(order, batch_size):
        faces = generate_faces(pipeline, [crops[i] for i in order], list(order),
                               Generation(degree=1.25, guidance=4.0, steps=2, scheduler="ddpm", batch_size=batch_size))
        return {i: np.rint(face * 255).astype(int) for i, face in zip(order, faces)}

    by_four = generated([0, 1, 2, 3, 4], 4)
    again = generated([4, 3, 2, 1, 0], 4)  # other neighbours, other places in the UNet call
    assert all(np.array_equal(by_four[i], again[i]) for i in (1, 2, 3)), "same-size calls are bit-identical"
    by_one = generated([0, 1, 2, 3, 4], 1)
    assert np.array_equal(by_one[4], by_four[4]) and np.array_equal(by_one[0], again[0]), "calls of one face"
    assert max(np.abs(by_one[i] - by_four[i]).max() for i in range(5)) <= 1
