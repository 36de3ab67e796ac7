# SPDX-License-Identifier: AGPL-3.0-or-later
"""End to end: the pack inside a real ComfyUI server, driven only through its HTTP and websocket API.

Every example workflow in workflows/ is converted to an API prompt with the server's /object_info, made
small (2 steps, 64x64 where a widget allows it, tiny models), queued and checked. The in-the-wild workflows
run on a real group photo and must leave every pixel far from the faces as it was; the one that polishes the
seams with an SD checkpoint runs up to its FaceAnon part and is validated as a whole against an empty
stand-in checkpoint file. Every saved image must hold pixels only. Also covered: interrupts, unusable model
folders, a wrong CLIP vision model, readable model names in the log, and equality of the nodes with core's
Python API.

Needs a ComfyUI checkout in $COMFYUI_PATH. Its Python is $COMFYUI_PATH/venv/bin/python, else
$COMFYUI_PYTHON, else this interpreter. The server runs on loopback with --cpu and tiny stand-in models
(comfyui_instance.py) and the face models shipped in tests/fixtures/models. The in-the-wild workflows also
need real photos from the shared test data (../shared, never copied into the repository); without it they
are skipped.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import urllib.parse
import uuid
from dataclasses import dataclass

import numpy as np
import pytest
from comfyui_instance import PACK_NAME, SD_CHECKPOINT, prepare_instance, start_comfyui
from comfyui_server import PromptRejected, WebSocketMessages, status_events, status_message
from comfyui_test_models import write_vit_h_keys_only
from conftest import COMFYUI_MISSING, ROOT, SHARED, SHARED_MISSING, TINY_MODEL, golden_image
from PIL import Image, PngImagePlugin
from pixel_only import PIXEL_ONLY_PNG_CHUNKS, png_chunk_types
from safetensors.numpy import load_file
from workflow_to_api import workflow_to_api

import faceanon
from faceanon.core.face_report import ACTIONS, REPORT_KEYS
from faceanon.core.verified_faces import RETRY_SEED_STRIDE

COMFYUI_PATH = os.environ.get("COMFYUI_PATH")
pytestmark = pytest.mark.skipif(
    not COMFYUI_PATH,
    reason=f"{COMFYUI_MISSING}: point it to a ComfyUI checkout to run the end-to-end tests",
)

WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, "workflows", "*.json")))
RUN_TIMEOUT = 120

# The example workflows by file name (without .json).
IN_PHOTO = "01 Anonymize every face in a photo"
REDACT = "02 Blur or pixelate every face"
VERIFIED = "03 Anonymize, verify and report"
SWAP_IN_PHOTO = "04 Swap a face into a photo"
ALIGNED = "05 Anonymize an aligned face"
SWAP_ALIGNED = "06 Swap aligned faces"
MODULAR = "07 Anonymize step by step"
CUSTOM_SAMPLER = "08 Anonymize with any sampler"
MASKED = "09 Anonymize a painted area"
UPSCALE = "10 Anonymize and upscale 4x"
UPSCALE_FACES = "11 Upscale the faces of a photo"
POLISH = "12 Polish the seams with SD"

# The face.png the tests give ComfyUI is img_a with this square painted out of its alpha channel, as the
# mask editor saves it: LoadImage's MASK is 1 there. 16..48 maps exactly onto latent cells 2..6.
MASK_HOLE = slice(16, 48)
LATENT_HOLE = slice(2, 6)

# Shared test data for the in-the-wild workflows: a photo of two people (faces in its top half) given to
# ComfyUI as group.jpg, 600 px wide, and a portrait given as portrait.jpg (swap source); the detector and the
# SFace recognizer (identity verifier) are put in place by comfyui_instance.
GROUP_PHOTO = os.path.join(SHARED, "faces", "ageitgey__examples_two_people.jpg")
GROUP_INPUT = "group.jpg"
GROUP_WIDTH = 600
GROUP_FACES = 2
PORTRAIT = os.path.join(SHARED, "faces", "cmusatyala__images_examples_clapton-2.jpg")
HAS_SHARED_DATA = all(os.path.isfile(path) for path in (GROUP_PHOTO, PORTRAIT))
needs_shared_data = pytest.mark.skipif(
    not HAS_SHARED_DATA, reason=f"{SHARED_MISSING}: needs {GROUP_PHOTO} and {PORTRAIT}"
)

# Test-friendly values substituted into every prompt: (node class, input) -> value.
SMALL_VALUES = {
    ("FaceAnonAnonymize", "steps"): 2,
    ("FaceAnonSwap", "steps"): 2,
    ("FaceAnonSampler", "steps"): 2,
    ("KarrasScheduler", "steps"): 2,
    ("FaceAnonAnonymizeFacesInImage", "steps"): 2,
    ("FaceAnonSwapFaceInImage", "steps"): 2,
    ("KSampler", "steps"): 2,
    ("FaceAnonEncodeReference", "width"): 64,
    ("FaceAnonEncodeReference", "height"): 64,
    ("ImageScale", "width"): 64,
    ("ImageScale", "height"): 64,
}

PHOTO_SIZE = "size of group.jpg"
PRIVATE_SAVE = "FaceAnonSaveImagePrivate"

# (width, height) of the image each workflow saves. The one-click nodes always work at 512x512; the modular
# ones follow Encode Reference's (substituted) 64x64; the in-the-wild ones keep the photo's size.
EXPECTED_SIZE = {
    IN_PHOTO: PHOTO_SIZE,
    REDACT: PHOTO_SIZE,
    VERIFIED: PHOTO_SIZE,
    SWAP_IN_PHOTO: PHOTO_SIZE,
    ALIGNED: (512, 512),
    SWAP_ALIGNED: (512, 512),
    MODULAR: (64, 64),
    CUSTOM_SAMPLER: (64, 64),
    MASKED: (64, 64),
    UPSCALE: (2048, 2048),
    UPSCALE_FACES: PHOTO_SIZE,
    POLISH: PHOTO_SIZE,
}
# Workflows that work on group.jpg (and need the shared test data).
IN_THE_WILD = {IN_PHOTO, REDACT, VERIFIED, SWAP_IN_PHOTO, UPSCALE_FACES, POLISH}
# Workflows that cannot run whole here (a full SD checkpoint cannot be made tiny): only the output node with this
# title (and what it needs) runs, as with the frontend's "Queue selected output nodes".
PARTIAL_RUNS = {POLISH: "Save (before the polish)"}


@dataclass
class ComfyUI:
    client: object
    root: str
    object_info: dict
    log_path: str

    @property
    def models(self) -> str:
        return os.path.join(self.root, "models")

    @property
    def output(self) -> str:
        return os.path.join(self.root, "output")

    @property
    def photo_size(self) -> tuple[int, int]:
        with Image.open(os.path.join(self.root, "input", GROUP_INPUT)) as photo:
            return photo.size


# -- server fixture ---------------------------------------------------------------------------------


def _write_inputs(input_dir: str) -> None:
    face = np.asarray(golden_image("img_a"))
    alpha = np.full(face.shape[:2], 255, np.uint8)
    alpha[MASK_HOLE, MASK_HOLE] = 0
    Image.fromarray(np.dstack([face, alpha]), "RGBA").save(os.path.join(input_dir, "face.png"))
    golden_image("img_b").save(os.path.join(input_dir, "face2.png"))
    if HAS_SHARED_DATA:
        with Image.open(GROUP_PHOTO) as photo:
            photo = photo.convert("RGB")
            height = round(photo.height * GROUP_WIDTH / photo.width)
            photo.resize((GROUP_WIDTH, height), Image.LANCZOS).save(os.path.join(input_dir, GROUP_INPUT), quality=90)
        shutil.copy(PORTRAIT, os.path.join(input_dir, "portrait.jpg"))


def _print_log(request, log_tail: str, log_path: str) -> None:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n===== end of the ComfyUI log {log_path} =====\n{log_tail}\n===== end of log =====")


@pytest.fixture(scope="module")
def comfyui(request, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("comfyui"))
    prepare_instance(root)
    _write_inputs(os.path.join(root, "input"))
    failures_before = request.session.testsfailed
    # latent2rgb previews exercise the sampler's preview path
    process, client = start_comfyui(COMFYUI_PATH, root, ("--preview-method", "latent2rgb"))
    try:
        yield ComfyUI(client, root, client.get("/object_info", timeout=60), process.log_path)
    finally:
        process.stop()
        if request.session.testsfailed > failures_before:
            _print_log(request, process.log_tail(), process.log_path)


# -- helpers ----------------------------------------------------------------------------------------


def workflow_name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def small_prompt(comfyui: ComfyUI, name: str) -> dict:
    """The API prompt of workflows/<name>.json with SMALL_VALUES substituted."""
    with open(os.path.join(ROOT, "workflows", f"{name}.json"), encoding="utf-8") as f:
        prompt = workflow_to_api(json.load(f), comfyui.object_info)
    for node in prompt.values():
        for input_name in node["inputs"]:
            key = (node["class_type"], input_name)
            if key in SMALL_VALUES:
                node["inputs"][input_name] = SMALL_VALUES[key]
    return prompt


def node_id(prompt: dict, class_type: str) -> str:
    """The id of the only ``class_type`` node of a prompt."""
    ids = [i for i, node in prompt.items() if node["class_type"] == class_type]
    assert len(ids) == 1, f"expected one {class_type} node, found {ids}"
    return ids[0]


def set_inputs(prompt: dict, class_type: str, **values) -> dict:
    prompt[node_id(prompt, class_type)]["inputs"].update(values)
    return prompt


def run(comfyui: ComfyUI, prompt: dict, client_id: str | None = None, targets: list[str] | None = None) -> dict:
    """Queue a prompt (it must pass validation) and return its finished /history entry."""
    prompt_id = comfyui.client.queue_prompt(prompt, client_id, targets)
    return comfyui.client.wait_for_history(prompt_id, RUN_TIMEOUT)


def assert_success(entry: dict) -> None:
    error = status_message(entry, "execution_error")
    assert error is None, f"{error['node_type']} failed: {error['exception_message']}\n{''.join(error['traceback'])}"
    assert entry["status"]["status_str"] == "success" and entry["status"]["completed"], status_events(entry)


def execution_error(entry: dict) -> dict:
    assert entry["status"]["status_str"] == "error", status_events(entry)
    error = status_message(entry, "execution_error")
    assert error is not None, f"no execution_error in {status_events(entry)}"
    return error


def output_images(comfyui: ComfyUI, entry: dict, node: str) -> list[np.ndarray]:
    return [np.asarray(comfyui.client.view(ref).convert("RGB")) for ref in entry["outputs"][node]["images"]]


def saved_file(comfyui: ComfyUI, ref: dict) -> str:
    assert ref["type"] == "output", ref
    return os.path.join(comfyui.output, ref["subfolder"], ref["filename"])


INPUT_PREVIEW = "e2e_input_preview"
MASK_PREVIEW = "e2e_mask_preview"


def photo_loader(prompt: dict) -> str:
    """The id of the LoadImage node that loads the group photo."""
    ids = [i for i, n in prompt.items() if n["class_type"] == "LoadImage" and n["inputs"]["image"] == GROUP_INPUT]
    assert len(ids) == 1, f"expected one LoadImage of group.jpg, found {ids}"
    return ids[0]


def titled(prompt: dict, title: str) -> str:
    """The id of the node with this title."""
    (node,) = [i for i, n in prompt.items() if n["_meta"]["title"] == title]
    return node


def add_photo_previews(prompt: dict) -> list[str]:
    """Test-only outputs for the in-the-wild checks: the photo as LoadImage decodes it and, where the workflow
    anonymizes faces in the photo, its MASK output as an image. Returns their ids."""
    prompt[INPUT_PREVIEW] = {"class_type": "PreviewImage", "inputs": {"images": [photo_loader(prompt), 0]}}
    added = [INPUT_PREVIEW]
    anonymizers = [i for i, n in prompt.items() if n["class_type"] == "FaceAnonAnonymizeFacesInImage"]
    if anonymizers:
        prompt["e2e_mask"] = {"class_type": "MaskToImage", "inputs": {"mask": [anonymizers[0], 1]}}
        prompt[MASK_PREVIEW] = {"class_type": "PreviewImage", "inputs": {"images": ["e2e_mask", 0]}}
        added.append(MASK_PREVIEW)
    return added


def changed_pixels(image: np.ndarray, photo: np.ndarray) -> np.ndarray:
    return np.any(image != photo, axis=-1)


def check_photo_result(comfyui: ComfyUI, name: str, prompt: dict, entry: dict, result: str) -> None:
    """Only the faces of group.jpg changed: its bottom third (far below both faces) is bit-identical to the
    photo as LoadImage decoded it (8-bit JPEG pixels, saved as PNG), and each half's top has new pixels."""
    (photo,) = output_images(comfyui, entry, INPUT_PREVIEW)
    (image,) = output_images(comfyui, entry, result)
    assert image.shape == photo.shape
    height, width = photo.shape[:2]
    far = slice(2 * height // 3, None)
    assert not changed_pixels(image[far], photo[far]).any(), f"{name} changed pixels far from the faces"

    changed = changed_pixels(image, photo)
    top_left, top_right = changed[: height // 2, : width // 2], changed[: height // 2, width // 2 :]
    assert top_right.sum() > 1000, f"{name}: the right face did not change"
    if name == SWAP_IN_PHOTO:  # max_faces 1: only the largest face (the right one) is swapped
        assert not changed[:, : width // 2].any(), f"{name} changed the left person"
    else:
        assert top_left.sum() > 1000, f"{name}: the left face did not change"

    for node in previews_of(comfyui, prompt, "count"):
        assert entry["outputs"][node]["text"] == [str(GROUP_FACES)], entry["outputs"][node]

    if MASK_PREVIEW in prompt:
        (mask,) = output_images(comfyui, entry, MASK_PREVIEW)
        mask = mask[..., 0]
        assert mask[far].max() == 0 and mask[: height // 2].max() == 255
        # 0 in the 8-bit preview is a mask value under 1/255: such a blend moves a pixel by at most 1 level.
        difference = np.abs(image.astype(int) - photo.astype(int)).max(axis=-1)
        assert difference[mask == 0].max() <= 1, f"{name} changed pixels outside its MASK output"
        assert changed[mask == 255].mean() > 0.5, f"{name}: most pixels inside its MASK output are unchanged"


def previews_of(comfyui: ComfyUI, prompt: dict, output_name: str) -> list[str]:
    """The ids of the Preview as Text (PreviewAny) nodes that show an output called ``output_name``."""
    ids = []
    for i, node in prompt.items():
        source = node["inputs"].get("source") if node["class_type"] == "PreviewAny" else None
        if isinstance(source, list):
            origin, slot = source
            if comfyui.object_info[prompt[origin]["class_type"]]["output_name"][slot] == output_name:
                ids.append(i)
    return ids


def input_names(prompt: dict) -> list[str]:
    """The file names (without extension) that the prompt's Load Image nodes read."""
    return [os.path.splitext(n["inputs"]["image"])[0] for n in prompt.values() if n["class_type"] == "LoadImage"]


def check_private_save(comfyui: ComfyUI, prompt: dict, entry: dict, node: str) -> None:
    """FaceAnon Save Image (Private) wrote a PNG that holds nothing but pixels, under a name that does not
    come from the input; with a report connected, see check_saved_report."""
    inputs = prompt[node]["inputs"]
    assert inputs["file_format"] == "png" and inputs["naming"] == "counter", inputs
    (ref,) = entry["outputs"][node]["images"]
    path = saved_file(comfyui, ref)
    secrets = [name.encode() for name in input_names(prompt)] + [b"workflow", b"prompt"]
    assert ref["subfolder"] == "" and ref["filename"].startswith(f"{inputs['filename_prefix']}_"), ref
    assert ref["filename"].endswith(".png") and not any(s.decode() in ref["filename"] for s in secrets), ref
    with open(path, "rb") as f:
        data = f.read()
    for secret in secrets:
        assert secret not in data, f"{secret!r} in {path}"
    assert set(png_chunk_types(data)) <= PIXEL_ONLY_PNG_CHUNKS, png_chunk_types(data)
    with Image.open(path) as saved:
        assert isinstance(saved, PngImagePlugin.PngImageFile)
        assert set(saved.info) <= {"dpi"}, saved.info
        assert saved.text == {} and not saved.getexif(), (saved.text, dict(saved.getexif()))
    if "report" in inputs:
        check_saved_report(comfyui, prompt, entry, node, path)


def check_saved_report(comfyui: ComfyUI, prompt: dict, entry: dict, node: str, path: str) -> None:
    """The report went next to the image as a JSON sidecar; the report that Preview as Text shows has one
    complete record per face, and no face was left recognizable."""
    inputs = prompt[node]["inputs"]
    (preview,) = previews_of(comfyui, prompt, "report")
    assert prompt[preview]["inputs"]["source"] == inputs["report"], "the saved and the shown reports differ"
    (text,) = entry["outputs"][preview]["text"]
    assert "group" not in text
    report = json.loads(text)
    assert isinstance(report, list) and len(report) == GROUP_FACES, report
    assert sorted((r["image_index"], r["face_index"]) for r in report) == [(0, j) for j in range(GROUP_FACES)]
    anonymize = prompt[inputs["report"][0]]
    verifier = prompt[anonymize["inputs"]["verifier"][0]]["inputs"]
    threshold, max_retries = verifier["similarity_threshold"], verifier["max_retries"]
    for record in report:
        assert set(record) == set(REPORT_KEYS), record
        assert record["action"] in ACTIONS and record["action"] != "swapped", record
        assert record["verified"] is True and record["threshold"] == threshold, record
        assert 1 <= record["attempts"] <= 1 + max_retries, record
        assert (record["action"] == "retried") == (record["attempts"] > 1 and record["redaction_method"] is None)
        assert (record["redaction_method"] is None) == (not record["action"].startswith("redacted")), record
        assert record["no_face_in_output"] == (record["similarity_final"] is None), record
        if record["similarity_final"] is not None and record["similarity_final"] >= threshold:
            assert record["redaction_method"] == "black", f"a face was left recognizable: {record}"

    sidecar = os.path.splitext(path)[0] + ".json"
    with open(sidecar, encoding="utf-8") as f:
        sidecar_text = f.read()
    assert "group" not in sidecar_text
    assert json.loads(sidecar_text) == {"faces": report}


# -- tests ------------------------------------------------------------------------------------------


def test_every_faceanon_node_is_listed_with_category_description_and_tooltips(comfyui):
    for node_type, cls in faceanon.NODE_CLASS_MAPPINGS.items():
        assert node_type in comfyui.object_info, f"{node_type} missing from /object_info (import failed?)"
        info = comfyui.object_info[node_type]
        assert info["category"] == "FaceAnon"
        assert info["display_name"] == faceanon.NODE_DISPLAY_NAME_MAPPINGS[node_type]
        assert info["description"] == cls.DESCRIPTION and len(info["description"]) > 40
        assert info["python_module"] == f"custom_nodes.{PACK_NAME}"
        assert len(info["output_tooltips"]) == len(info["output"]) and all(info["output_tooltips"])
        for section in ("required", "optional"):
            for name, spec in info["input"].get(section, {}).items():
                assert len(spec) > 1 and spec[1].get("tooltip"), f"{node_type}.{name} has no tooltip"


def test_example_workflows_are_offered_in_the_template_browser_with_thumbnails(comfyui):
    names = sorted(workflow_name(path) for path in WORKFLOWS)
    assert sorted(comfyui.client.get("/workflow_templates")[PACK_NAME]) == names
    for name in names:  # the URLs the frontend asks for: <name>.json and, for the card, <name>.jpg
        base = f"/api/workflow_templates/{PACK_NAME}/{urllib.parse.quote(name)}"
        with open(os.path.join(ROOT, "workflows", f"{name}.json"), encoding="utf-8") as f:
            assert comfyui.client.get(f"{base}.json") == json.load(f)
        status, thumbnail = comfyui.client.get_bytes(f"{base}.jpg")
        assert status == 200 and thumbnail[:3] == b"\xff\xd8\xff", f"{name}.jpg is not served"


def test_every_example_workflow_has_expectations():
    assert WORKFLOWS, "no workflows/*.json"
    assert {workflow_name(path) for path in WORKFLOWS} == set(EXPECTED_SIZE)


@pytest.mark.parametrize("path", WORKFLOWS, ids=workflow_name)
def test_example_workflow_runs(comfyui, path):
    name = workflow_name(path)
    if name in IN_THE_WILD and not HAS_SHARED_DATA:
        pytest.skip(f"{SHARED_MISSING}: {name} needs {GROUP_PHOTO} and {PORTRAIT}")
    prompt = small_prompt(comfyui, name)
    steps = {node["class_type"]: node["inputs"]["steps"] for node in prompt.values() if "steps" in node["inputs"]}
    assert set(steps.values()) <= {2}, f"add the node to SMALL_VALUES to keep this test fast: {steps}"
    saves = [i for i, node in prompt.items() if node["class_type"] == PRIVATE_SAVE]
    targets = None
    if name in PARTIAL_RUNS:
        targets = saves = [titled(prompt, PARTIAL_RUNS[name])]
    if name in IN_THE_WILD:  # also show the photo (and the replaced regions) to compare pixels with
        added = add_photo_previews(prompt)
        targets = None if targets is None else targets + added
    entry = run(comfyui, prompt, targets=targets)
    assert_success(entry)

    for node in saves:
        (ref,) = entry["outputs"][node]["images"]
        assert os.path.isfile(saved_file(comfyui, ref))
        (image,) = output_images(comfyui, entry, node)
        expected = EXPECTED_SIZE[name]
        width, height = comfyui.photo_size if expected == PHOTO_SIZE else expected
        assert image.shape == (height, width, 3), f"{node} of {name}"
        assert image.max() > image.min(), f"{node} of {name} is one flat colour"
        check_private_save(comfyui, prompt, entry, node)
    if name in IN_THE_WILD:
        check_photo_result(comfyui, name, prompt, entry, saves[0])


def test_log_names_the_model_groups(comfyui):
    """ComfyUI logs "Requested to load <class name>" at each model load: FaceAnon's groups have readable names."""
    run(comfyui, small_prompt(comfyui, ALIGNED))
    with open(comfyui.log_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    loaded = {line.rsplit(" ", 1)[-1] for line in log.splitlines() if line.startswith("Requested to load ")}
    assert {"FaceAnonUNet", "FaceAnonReferenceNets", "FaceAnonEncoders"} <= loaded, loaded
    assert not [name for name in loaded if name.startswith("_")], loaded


@contextlib.contextmanager
def busy_server(comfyui: ComfyUI):
    """Keep the server busy with a long FaceAnon Sampler run, so prompts queued meanwhile stay pending;
    it is interrupted on exit. Yields its prompt id."""
    prompt = set_inputs(small_prompt(comfyui, MODULAR), "FaceAnonSampler", steps=500, seed=7)
    sampler = node_id(prompt, "FaceAnonSampler")
    client_id = uuid.uuid4().hex
    messages = WebSocketMessages(comfyui.client.host, comfyui.client.port, client_id)
    prompt_id = None
    try:
        prompt_id = comfyui.client.queue_prompt(prompt, client_id)
        messages.wait_for(  # sampling has begun: an interrupt now cannot be lost before the prompt starts
            lambda m: m["type"] == "progress" and m["data"].get("prompt_id") == prompt_id
            and m["data"].get("node") == sampler,
            timeout=60,
        )
        yield prompt_id
    finally:
        if prompt_id is not None:
            comfyui.client.interrupt(prompt_id)
            entry = comfyui.client.wait_for_history(prompt_id, RUN_TIMEOUT)
            assert status_message(entry, "execution_interrupted") is not None, status_events(entry)
        messages.close()


@needs_shared_data
def test_inpaint_workflow_passes_validation_as_a_whole(comfyui):
    """The SD polishing part cannot run (no real checkpoint), but ComfyUI must accept the whole workflow:
    every node known, every link of the right type, every value valid. It is queued while the server is
    busy and deleted before it can start."""
    prompt = small_prompt(comfyui, POLISH)
    assert prompt[node_id(prompt, "CheckpointLoaderSimple")]["inputs"]["ckpt_name"] == SD_CHECKPOINT
    with busy_server(comfyui):
        prompt_id = comfyui.client.queue_prompt(prompt)  # raises PromptRejected unless node_errors == {}
        assert prompt_id in comfyui.client.pending_prompt_ids()
        comfyui.client.delete_pending(prompt_id)
        queue = comfyui.client.get("/queue")
        assert prompt_id not in [item[1] for item in queue["queue_pending"] + queue["queue_running"]]
    assert comfyui.client.get(f"/history/{prompt_id}") == {}, "the workflow ran with the stand-in checkpoint"


@needs_shared_data
def test_private_workflow_fails_closed_on_faces_that_stay_recognizable(comfyui):
    """With the pasted region shrunk (grow -0.2) most of each original face stays, so face recognition still
    matches both faces: each is generated again max_retries times, with new seeds and a stronger degree, then
    redacted, and the report says so. With fail_closed off the run stops with an error and saves nothing.
    (One retry, then none, to keep it short.)"""
    prompt = small_prompt(comfyui, VERIFIED)
    set_inputs(prompt, "FaceAnonAnonymizeFacesInImage", grow=-0.2)
    set_inputs(prompt, "FaceAnonVerifierLoader", max_retries=1)
    anonymize = prompt[node_id(prompt, "FaceAnonAnonymizeFacesInImage")]["inputs"]
    verifier = prompt[node_id(prompt, "FaceAnonVerifierLoader")]["inputs"]
    entry = run(comfyui, prompt)
    assert_success(entry)
    check_private_save(comfyui, prompt, entry, node_id(prompt, PRIVATE_SAVE))
    (preview,) = previews_of(comfyui, prompt, "report")
    retries = verifier["max_retries"]
    for record in json.loads(entry["outputs"][preview]["text"][0]):
        assert record["similarity_initial"] >= verifier["similarity_threshold"], record
        assert record["action"] == "redacted" and record["attempts"] == 1 + retries, record
        assert record["redaction_method"] in (anonymize["fallback"], "black"), record
        assert record["final_seed"] == anonymize["seed"] + record["face_index"] + RETRY_SEED_STRIDE * retries
        stronger = min(verifier["max_degree"], anonymize["degree"] + retries * verifier["degree_step"])
        assert record["final_degree"] == pytest.approx(stronger), record

    set_inputs(prompt, "FaceAnonAnonymizeFacesInImage", fail_closed=False)
    set_inputs(prompt, "FaceAnonVerifierLoader", max_retries=0)
    saved_before = sorted(os.listdir(comfyui.output))
    error = execution_error(run(comfyui, prompt))
    assert error["node_type"] == "FaceAnonAnonymizeFacesInImage"
    assert "still recognizable after 0 retries" in error["exception_message"], error["exception_message"]
    assert sorted(os.listdir(comfyui.output)) == saved_before


def test_modular_workflow_matches_core_pipeline(comfyui, pipeline):
    settings = {"seed": 1234, "steps": 2, "guidance": 4.0, "scheduler": "ddpm"}
    prompt = small_prompt(comfyui, MODULAR)
    set_inputs(prompt, "FaceAnonEncodeReference", width=64, height=80)  # non-square: both resize the 64x64 input
    set_inputs(prompt, "FaceAnonBlend", degree=1.25)
    set_inputs(prompt, "FaceAnonSampler", denoise=1.0, **settings)
    set_inputs(prompt, "FaceAnonModelLoader", precision="fp32")
    entry = run(comfyui, prompt)
    assert_success(entry)
    (image,) = output_images(comfyui, entry, node_id(prompt, PRIVATE_SAVE))

    expected = pipeline(driving=golden_image("img_a"), degree=1.25, width=64, height=80, **settings)[0]
    assert image.shape == expected.shape == (80, 64, 3)
    # SaveImage truncates to 8 bits: up to 1/255 below the float value.
    np.testing.assert_allclose(image / 255.0, expected, rtol=0, atol=1 / 255 + 1e-3)
    assert np.abs(image / 255.0 - expected).mean() < 1 / 255


def test_masked_workflow_regenerates_only_the_masked_latents(comfyui):
    prompt = small_prompt(comfyui, MASKED)
    prompt["save_input"] = {
        "class_type": "SaveLatent",
        "inputs": {"samples": [node_id(prompt, "VAEEncode"), 0], "filename_prefix": "e2e/masked-input"},
    }
    prompt["save_output"] = {
        "class_type": "SaveLatent",
        "inputs": {"samples": [node_id(prompt, "FaceAnonSampler"), 0], "filename_prefix": "e2e/masked-output"},
    }
    entry = run(comfyui, prompt)
    assert_success(entry)
    before, after = (
        load_file(saved_file(comfyui, entry["outputs"][node]["latents"][0]))["latent_tensor"]
        for node in ("save_input", "save_output")
    )
    assert before.shape == after.shape == (1, 4, 8, 8)

    change = np.abs(after - before).max(axis=1)[0]  # per latent cell
    inside = np.zeros_like(change, dtype=bool)
    inside[LATENT_HOLE, LATENT_HOLE] = True
    assert change[~inside].max() < 1e-5, "latents outside the mask changed"
    assert change[inside].min() > 1e-2, "some latents inside the mask were not regenerated"


def test_interrupt_stops_sampling_and_the_server_stays_usable(comfyui):
    steps = 500  # about a minute on a CPU: far longer than the test waits
    prompt = set_inputs(small_prompt(comfyui, MODULAR), "FaceAnonSampler", steps=steps, seed=99)
    sampler = node_id(prompt, "FaceAnonSampler")
    client_id = uuid.uuid4().hex
    messages = WebSocketMessages(comfyui.client.host, comfyui.client.port, client_id)
    try:
        prompt_id = comfyui.client.queue_prompt(prompt, client_id)

        def sampler_progress(message):
            data = message.get("data", {})
            return message["type"] == "progress" and data.get("prompt_id") == prompt_id and data.get("node") == sampler

        first = messages.wait_for(sampler_progress, timeout=60)
        assert first["data"]["max"] == steps
        comfyui.client.interrupt(prompt_id)
        entry = comfyui.client.wait_for_history(prompt_id, timeout=60)
        progress = [m["data"]["value"] for m in messages.messages if sampler_progress(m)]
    finally:
        messages.close()

    assert entry["status"]["status_str"] == "error" and not entry["status"]["completed"]
    interrupted = status_message(entry, "execution_interrupted")
    assert interrupted is not None, status_events(entry)
    assert status_message(entry, "execution_error") is None
    assert interrupted["node_type"] == "FaceAnonSampler"
    assert max(progress) < steps / 2, "the sampler kept running after the interrupt"

    again = run(comfyui, set_inputs(small_prompt(comfyui, MODULAR), "FaceAnonSampler", seed=100))
    assert_success(again)
    assert node_id(prompt, PRIVATE_SAVE) in again["outputs"]


def test_unknown_model_name_is_a_validation_error(comfyui):
    prompt = small_prompt(comfyui, ALIGNED)
    set_inputs(prompt, "FaceAnonModelLoader", model_name="no-such-model")
    with pytest.raises(PromptRejected) as rejected:
        comfyui.client.queue_prompt(prompt)
    assert rejected.value.status == 400
    errors = rejected.value.body["node_errors"]
    assert list(errors) == [node_id(prompt, "FaceAnonModelLoader")]
    (error,) = errors[node_id(prompt, "FaceAnonModelLoader")]["errors"]
    assert error["type"] == "value_not_in_list"
    assert "model_name" in error["details"] and "no-such-model" in error["details"]


def test_model_folder_without_weights_names_the_missing_file_and_its_repo(comfyui):
    broken = os.path.join(comfyui.models, "face_anon", "no-weights")
    for component in ("unet", "referencenet", "conditioning_referencenet"):  # configs only, as after a bad clone
        os.makedirs(os.path.join(broken, component))
        shutil.copy(os.path.join(TINY_MODEL, component, "config.json"), os.path.join(broken, component))
    prompt = set_inputs(small_prompt(comfyui, ALIGNED), "FaceAnonModelLoader", model_name="no-weights")

    error = execution_error(run(comfyui, prompt))
    assert error["node_type"] == "FaceAnonModelLoader"
    assert error["exception_type"].endswith("ModelFileMissingError")  # a ModelFileError: nothing there to load
    message = error["exception_message"]
    first, *files = message.splitlines()
    assert "model files are missing" in first, "a short first line: ComfyUI's dialog shows it as the title"
    unet = next(line for line in files if "/unet/" in line)
    assert os.path.join("no-weights", "unet") in unet
    assert "https://huggingface.co/hkung/face-anon-simple/resolve/main/unet/diffusion_pytorch_model.safetensors" in message
    assert "'download' toggle" in message


def test_clip_vision_other_than_vit_l_is_rejected(comfyui):
    write_vit_h_keys_only(os.path.join(comfyui.models, "clip_vision", "vit-h-keys-only.safetensors"))
    prompt = small_prompt(comfyui, MODULAR)
    prompt["clip_vision"] = {"class_type": "CLIPVisionLoader", "inputs": {"clip_name": "vit-h-keys-only.safetensors"}}
    set_inputs(prompt, "FaceAnonModelLoader", clip_vision=["clip_vision", 0])

    error = execution_error(run(comfyui, prompt))
    assert error["node_type"] == "FaceAnonModelLoader"
    message = error["exception_message"]
    assert "width 1280" in message and "FaceAnon needs CLIP ViT-L/14" in message

