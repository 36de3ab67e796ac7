# SPDX-License-Identifier: AGPL-3.0-or-later
"""The example workflows as a new user meets them: ComfyUI 0.8's own page in a headless chromium.

For every workflow: open it from the template browser, pick photos through Load Image's "choose file to upload",
press Run. Checked: every card has its thumbnail; a workflow that needs a third-party file asks for exactly that
file in ComfyUI's missing-models dialog (with a download it allows) when the file is missing, and no dialog
otherwise; it opens with every node in view, clear of the sidebar, bars and minimap, none over another; the run
succeeds with no error dialog or toast; every image saved holds pixels only.

Needs $COMFYUI_PATH (as test_comfyui_e2e.py), Debian's chromium (or $CHROMIUM) and node with playwright-core
installed in tests/browser (``npm install`` there), and the shared test photos and face models. The models are
tiny stand-ins (comfyui_instance.py), so a run takes seconds, not minutes; the SD checkpoint cannot be made tiny,
so the seam-polishing workflow runs its FaceAnon part only ("Queue selected output nodes"). Before Run, 2 is typed
into every steps widget, as a user may, to keep the CPU run short. Set
$FACEANON_SCREENSHOTS to a folder to keep screenshots of each step.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess

import pytest
from comfyui_instance import prepare_instance, start_comfyui, write_third_party_standins
from conftest import COMFYUI_MISSING, ROOT, SHARED, SHARED_MISSING
from pixel_only import PIXEL_ONLY_PNG_CHUNKS, png_chunk_types

COMFYUI_PATH = os.environ.get("COMFYUI_PATH")
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
NODE = shutil.which("node")
FACES = os.path.join(SHARED, "faces")
GROUP_PHOTO = os.path.join(FACES, "ageitgey__examples_two_people.jpg")
PORTRAIT = os.path.join(FACES, "cmusatyala__images_examples_clapton-2.jpg")
ALIGNED_FACE = os.path.join(FACES, "hanweikung__my_dataset_test_00482.png")
OTHER_ALIGNED_FACE = os.path.join(FACES, "hanweikung__my_dataset_test_14795.png")
PHOTOS = (GROUP_PHOTO, PORTRAIT, ALIGNED_FACE, OTHER_ALIGNED_FACE)


def _missing() -> str | None:
    if not COMFYUI_PATH:
        return f"{COMFYUI_MISSING}: point it to a ComfyUI checkout"
    if not os.path.isfile(CHROMIUM):
        return "no chromium (apt-get install chromium, or set $CHROMIUM)"
    if NODE is None:
        return "no node on PATH"
    if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
        return "playwright-core is not installed: run npm install in tests/browser"
    if not all(os.path.isfile(p) for p in PHOTOS):
        return f"{SHARED_MISSING}: needs the test photos in {FACES}"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")

WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, "workflows", "*.json")))
VIEWPORT = (1600, 900)
RUN_TIMEOUT_S = 600
STEPS = 2  # typed into every steps widget before Run: the tiny models need no more, and a CPU run stays short
PARTIAL_OUTPUT = {"12 Polish the seams with SD": "Save (before the polish)"}
# The missing-models dialog's complaints about a model entry it cannot download.
DIALOG_REFUSALS = ("Download not allowed", "Only allowed suffixes", "Invalid directory")


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _photos(path: str, folder) -> dict[str, str]:
    """Which photo each Load Image gets, by node title ('*': any other): a copy named after the workflow's number,
    so each upload is a new file (picking the same file twice in a row is no change for the browser)."""
    workflow = _load(path)
    aligned = any(node["type"] in ("FaceAnonAnonymize", "FaceAnonSwap", "FaceAnonEncodeReference")
                  for node in workflow["nodes"])
    chosen = {"Source face (identity)": OTHER_ALIGNED_FACE if aligned else PORTRAIT,
              "*": ALIGNED_FACE if aligned else GROUP_PHOTO}
    copies = {}
    for title, photo in chosen.items():
        copy = folder / f"{_stem(path)[:2]}-{os.path.basename(photo)}"
        shutil.copy(photo, copy)
        copies[title] = str(copy)
    return copies


def _third_party(workflow: dict) -> list[tuple[str, str]]:
    return sorted((m["directory"], m["name"]) for n in workflow["nodes"] for m in n["properties"].get("models", []))


def _drive(base_url: str, phase: str, tmp_path, screenshots: str | None) -> dict:
    photos = tmp_path / f"{phase}-photos"
    photos.mkdir()
    plan = {
        "url": base_url, "chromium": CHROMIUM, "viewport": list(VIEWPORT), "phase": phase, "screenshots": screenshots,
        "run_timeout_s": RUN_TIMEOUT_S, "steps": STEPS,
        "workflows": [
            {"name": _stem(path), "photos": _photos(path, photos), "partial_output": PARTIAL_OUTPUT.get(_stem(path))}
            for path in WORKFLOWS
        ],
    }
    plan_path, result_path = tmp_path / f"{phase}-plan.json", tmp_path / f"{phase}-result.json"
    plan_path.write_text(json.dumps(plan))
    completed = subprocess.run(
        [NODE, os.path.join(BROWSER_DIR, "use_templates.mjs"), str(plan_path), str(result_path)],
        cwd=BROWSER_DIR, capture_output=True, text=True, timeout=RUN_TIMEOUT_S * len(WORKFLOWS),
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(result_path.read_text())


def _intersects(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """Both browser passes over one ComfyUI: first without the third-party files, then with stand-ins."""
    root = str(tmp_path_factory.mktemp("comfyui"))
    prepare_instance(root, third_party=False)
    screenshots = os.environ.get("FACEANON_SCREENSHOTS")
    if screenshots:
        os.makedirs(screenshots, exist_ok=True)
    process, client = start_comfyui(COMFYUI_PATH, root)
    try:
        work = tmp_path_factory.mktemp("browser")
        opened = _drive(client.base_url, "open", work, screenshots)
        write_third_party_standins(root)
        ran = _drive(client.base_url, "run", work, screenshots)
        yield {"root": root, "open": opened, "run": ran, "log": process.log_tail()}
    finally:
        process.stop()


def _record(result: dict, name: str) -> dict:
    (record,) = [r for r in result["workflows"] if r["name"] == name]
    assert "failure" not in record, record["failure"]
    return record


def test_every_card_shows_its_thumbnail(session):
    cards = {card["testid"].removeprefix("template-workflow-"): card for card in session["run"]["cards"]}
    assert sorted(cards) == sorted(_stem(p) for p in WORKFLOWS)
    for name, card in cards.items():
        (thumbnail,) = card["thumbnails"] or [None]
        assert thumbnail is not None, f"{name}: no image on its card"
        assert thumbnail["alt"] == name and thumbnail["complete"] and thumbnail["width"] == 512, (name, thumbnail)


def test_sorted_by_name_the_cards_start_with_every_face_of_a_photo(session):
    """The browser's A-Z sort (and Windows' file order) gives the numbered order, from 01 up."""
    assert session["run"]["alphabetical"] == [_stem(p) for p in WORKFLOWS]
    assert session["run"]["alphabetical"][0] == "01 Anonymize every face in a photo"


@pytest.mark.parametrize("path", WORKFLOWS, ids=_stem)
def test_missing_third_party_files_are_offered_for_download(session, path):
    """Opened before the third-party files exist: ComfyUI's missing-models dialog lists exactly the workflow's
    files, each with a download it allows; a workflow that needs none opens without a dialog."""
    record = _record(session["open"], _stem(path))
    needed = _third_party(_load(path))
    dialogs = record["opened"]["dialogs"]
    if not needed:
        assert dialogs == [], dialogs
        return
    (dialog,) = dialogs
    assert "Missing Models" in dialog, dialog
    listed = sorted(tuple(part.strip() for part in line.split(" / ", 1)) for line in dialog.splitlines() if " / " in line)
    assert listed == needed, dialog
    assert not any(refusal in dialog for refusal in DIALOG_REFUSALS), dialog


@pytest.mark.parametrize("path", WORKFLOWS, ids=_stem)
def test_workflow_opens_in_view_with_no_node_over_another(session, path):
    record = _record(session["run"], _stem(path))
    assert record["opened"]["dialogs"] == [], record["opened"]["dialogs"]
    layout = record["layout"]
    width, height = layout["viewport"]
    assert layout["scale"] >= 0.65, layout["scale"]
    assert set(layout["overlays"]) >= {"sidebar", "runbar", "minimap"}, layout["overlays"]
    nodes = layout["nodes"]
    for node in nodes:
        box = node["box"]
        assert 0 <= box[0] and 0 <= box[1] and box[2] <= width and box[3] <= height, (node["title"], box)
        for overlay, rect in layout["overlays"].items():
            assert not _intersects(box, rect), f"{node['title']} is under the {overlay}"
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            assert not _intersects(a["box"], b["box"]), f"{a['title']} and {b['title']} overlap"


@pytest.mark.parametrize("path", WORKFLOWS, ids=_stem)
def test_first_run_after_picking_a_photo_succeeds(session, path):
    record = _record(session["run"], _stem(path))
    assert len(record["photos"]) == sum(node["type"] == "LoadImage" for node in _load(path)["nodes"])
    assert record["run"]["event"] == "execution_success", record["run"]
    assert record["after_run"]["dialogs"] == [], record["after_run"]["dialogs"]
    errors = [toast for toast in record["after_run"]["toasts"] if "error" in toast.lower() or "fail" in toast.lower()]
    assert errors == [], errors


def test_saved_images_hold_pixels_only(session):
    """Every example saves with FaceAnon Save Image (Private): PNGs with nothing but pixels, named after nothing
    the user picked."""
    output = os.path.join(session["root"], "output")
    saved = sorted(f for f in os.listdir(output) if not f.endswith(".json"))
    expected = sum(
        1 if _stem(p) in PARTIAL_OUTPUT else sum(n["type"] == "FaceAnonSaveImagePrivate" for n in _load(p)["nodes"])
        for p in WORKFLOWS
    )
    assert len(saved) == expected, saved
    picked = {os.path.splitext(os.path.basename(p))[0] for p in PHOTOS}  # the uploads are <NN>-<these>
    for name in saved:
        with open(os.path.join(output, name), "rb") as f:
            data = f.read()
        assert set(png_chunk_types(data)) <= PIXEL_ONLY_PNG_CHUNKS, (name, png_chunk_types(data))
        assert not any(p in name or p.encode() in data for p in picked), name
        assert b"workflow" not in data and b"prompt" not in data, name


def test_page_raised_no_script_errors(session):
    assert session["run"]["console_errors"] == [] and session["open"]["console_errors"] == []
