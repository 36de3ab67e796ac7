# SPDX-License-Identifier: AGPL-3.0-or-later
"""End to end: the pack inside a real ComfyUI server, driven only through its HTTP and websocket API.

Every example workflow in workflows/ is converted to an API prompt with the server's /object_info, made
small (2 steps, 64x64 where a widget allows it, tiny models), queued and checked. The in-the-wild workflows
run on a real group photo and must leave every pixel far from the faces as it was; the one that polishes the
seams with an SD checkpoint runs up to its FaceAnon part and is validated as a whole against an empty
stand-in checkpoint file. Also covered: interrupts, unusable model folders, a wrong CLIP vision model, and
equality of the nodes with core's Python API.

Needs a ComfyUI checkout in $COMFYUI_PATH. Its Python is $COMFYUI_PATH/venv/bin/python, else
$COMFYUI_PYTHON, else this interpreter. The server runs on loopback with --cpu and the tiny random models
from tests/fixtures/golden (FaceAnon) and comfyui_test_models.py (upscaler, TAESD, CLIP vision). The
in-the-wild workflows also need real photos from the shared test data (../shared, never copied into the
repository); without it they are skipped.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass

import numpy as np
import pytest
from comfyui_server import (
    ComfyClient,
    ComfyUIProcess,
    PromptRejected,
    WebSocketMessages,
    comfyui_python,
    free_port,
    status_events,
    status_message,
)
from comfyui_test_models import write_compact_upscaler, write_taesd, write_vit_h_keys_only
from conftest import CENTERFACE, COMFYUI_MISSING, ROOT, SFACE, TINY_MODEL, YUNET, golden_image, shared_file
from PIL import Image, PngImagePlugin
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

PACK_NAME = "ComfyUI-FaceAnon"
WORKFLOWS = sorted(glob.glob(os.path.join(ROOT, "workflows", "*.json")))
STARTUP_TIMEOUT = 120
RUN_TIMEOUT = 120

# The face.png the tests give ComfyUI is img_a with this square painted out of its alpha channel, as the
# mask editor saves it: LoadImage's MASK is 1 there. 16..48 maps exactly onto latent cells 2..6.
MASK_HOLE = slice(16, 48)
LATENT_HOLE = slice(2, 6)

# Shared test photos for the in-the-wild workflows: a photo of two people (faces in its top half) given to
# ComfyUI as group.jpg, 600 px wide, and a portrait given as portrait.jpg (swap source).
GROUP_PHOTO = "ageitgey__examples_two_people.jpg"
GROUP_INPUT = "group.jpg"
GROUP_WIDTH = 600
GROUP_FACES = 2
PORTRAIT = "cmusatyala__images_examples_clapton-2.jpg"
# The name the polishing workflow picks in Load Checkpoint; an empty file of that name lets /prompt
# validation pass. It is never loaded.
SD_CHECKPOINT = "v2-1_768-ema-pruned.safetensors"

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
    ("VAELoader", "vae_name"): "taesd",
    ("UpscaleModelLoader", "model_name"): "tiny-compact.safetensors",
}

PHOTO_SIZE = "size of group.jpg"

# Output node class -> (width, height) of every image it shows, per workflow. The one-click nodes always
# work at 512x512; the modular ones follow Encode Reference's (substituted) 64x64; the in-the-wild ones
# keep the photo's size.
EXPECTED_IMAGES = {
    "anonymize-aligned-face": {"SaveImage": (512, 512)},
    "swap-aligned-faces": {"SaveImage": (512, 512)},
    "modular-anonymize": {"SaveImage": (64, 64), "PreviewImage": (64, 64)},
    "anonymize-and-upscale": {"PreviewImage": (512, 512), "SaveImage": (2048, 2048)},
    "masked-anonymize": {"SaveImage": (64, 64)},
    "custom-sampler-karras": {"SaveImage": (64, 64)},
    "anonymize-faces-in-photo": {"SaveImage": PHOTO_SIZE, "PreviewImage": PHOTO_SIZE},
    "redact-faces": {"SaveImage": PHOTO_SIZE},
    "detect-anonymize-upscale-paste": {"SaveImage": PHOTO_SIZE},
    "anonymize-and-inpaint-seams": {"PreviewImage": PHOTO_SIZE},
    "swap-face-into-photo": {"SaveImage": PHOTO_SIZE},
    "anonymize-verify-save-private": {"FaceAnonSaveImagePrivate": PHOTO_SIZE},
}
# Workflows that work on group.jpg (and need the shared test photos).
IN_THE_WILD = {
    "anonymize-faces-in-photo", "redact-faces", "detect-anonymize-upscale-paste", "anonymize-and-inpaint-seams",
    "swap-face-into-photo", "anonymize-verify-save-private",
}
# Nodes that show or save images: core ones, and the private save (its files are in the output folder).
IMAGE_OUTPUT_NODES = ("SaveImage", "PreviewImage", "FaceAnonSaveImagePrivate")
SAVE_NODES = ("SaveImage", "FaceAnonSaveImagePrivate")
# Workflows that cannot run whole here (a full SD checkpoint cannot be made tiny): only these output node
# classes (and what they need) run, as with the frontend's "Queue selected output nodes".
PARTIAL_RUNS = {"anonymize-and-inpaint-seams": ("PreviewImage",)}


@dataclass
class ComfyUI:
    client: ComfyClient
    root: str
    object_info: dict

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


def _write_extra_model_paths(root: str) -> str:
    folders = {
        "face_anon": "models/face_anon",
        "upscale_models": "models/upscale_models",
        "vae_approx": "models/vae_approx",
        "clip_vision": "models/clip_vision",
        "checkpoints": "models/checkpoints",
        "custom_nodes": "custom_nodes",
    }
    lines = ["faceanon_e2e:", f"  base_path: {json.dumps(root)}"] + [f"  {k}: {v}" for k, v in folders.items()]
    path = os.path.join(root, "extra_model_paths.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _write_inputs(input_dir: str) -> None:
    face = np.asarray(golden_image("img_a"))
    alpha = np.full(face.shape[:2], 255, np.uint8)
    alpha[MASK_HOLE, MASK_HOLE] = 0
    Image.fromarray(np.dstack([face, alpha]), "RGBA").save(os.path.join(input_dir, "face.png"))
    golden_image("img_b").save(os.path.join(input_dir, "face2.png"))


def provide_photos(comfyui: ComfyUI) -> None:
    """group.jpg and portrait.jpg in the server's input folder; skips the test without the shared photos."""
    group, portrait = shared_file("faces", GROUP_PHOTO), shared_file("faces", PORTRAIT)
    input_dir = os.path.join(comfyui.root, "input")
    if os.path.isfile(os.path.join(input_dir, GROUP_INPUT)):
        return
    with Image.open(group) as photo:
        photo = photo.convert("RGB")
        height = round(photo.height * GROUP_WIDTH / photo.width)
        photo.resize((GROUP_WIDTH, height), Image.LANCZOS).save(os.path.join(input_dir, GROUP_INPUT), quality=90)
    shutil.copy(portrait, os.path.join(input_dir, "portrait.jpg"))


def _prepare_instance(root: str) -> str:
    """Models, custom_nodes, input/output/user folders and extra_model_paths.yaml under ``root``."""
    for folder in ("models/upscale_models", "models/vae_approx", "models/clip_vision", "models/checkpoints",
                   "models/face_anon/detectors", "models/face_anon/recognizers", "custom_nodes", "input", "output",
                   "user"):
        os.makedirs(os.path.join(root, folder))
    shutil.copytree(TINY_MODEL, os.path.join(root, "models", "face_anon", "face-anon-simple"))
    # the int8 YuNet and SFace variants are accepted next to the canonical names
    shutil.copy(YUNET, os.path.join(root, "models", "face_anon", "detectors"))
    shutil.copy(CENTERFACE, os.path.join(root, "models", "face_anon", "detectors"))
    shutil.copy(SFACE, os.path.join(root, "models", "face_anon", "recognizers"))
    open(os.path.join(root, "models", "checkpoints", SD_CHECKPOINT), "wb").close()
    write_compact_upscaler(os.path.join(root, "models", "upscale_models", "tiny-compact.safetensors"))
    vae_approx = os.path.join(root, "models", "vae_approx")
    write_taesd(
        os.path.join(vae_approx, "taesd_encoder.safetensors"), os.path.join(vae_approx, "taesd_decoder.safetensors")
    )
    os.symlink(ROOT, os.path.join(root, "custom_nodes", PACK_NAME))
    _write_inputs(os.path.join(root, "input"))
    return _write_extra_model_paths(root)


def _print_log(request, process: ComfyUIProcess) -> None:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n===== end of the ComfyUI log {process.log_path} =====\n{process.log_tail()}\n===== end of log =====")


@pytest.fixture(scope="module")
def comfyui(request, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("comfyui"))
    yaml_path = _prepare_instance(root)
    port = free_port()
    process = ComfyUIProcess(
        COMFYUI_PATH,
        comfyui_python(COMFYUI_PATH),
        port,
        [
            "--extra-model-paths-config", yaml_path,
            "--input-directory", os.path.join(root, "input"),
            "--output-directory", os.path.join(root, "output"),
            "--temp-directory", root,
            "--user-directory", os.path.join(root, "user"),
            "--database-url", "sqlite:///:memory:",
            "--preview-method", "latent2rgb",  # exercises the sampler's preview path
        ],
        os.path.join(root, "comfyui.log"),
        {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"},
    )
    failures_before = request.session.testsfailed
    process.start()
    try:
        client = ComfyClient("127.0.0.1", port)
        process.wait_until_ready(client, "/object_info/FaceAnonModelLoader", STARTUP_TIMEOUT)
        yield ComfyUI(client, root, client.get("/object_info", timeout=60))
    finally:
        process.stop()
        if request.session.testsfailed > failures_before:
            _print_log(request, process)


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
# The output node that shows the in-the-wild result, when it is not the SaveImage.
RESULT_NODE = {
    "anonymize-and-inpaint-seams": "PreviewImage", "anonymize-verify-save-private": "FaceAnonSaveImagePrivate",
}


def photo_loader(prompt: dict) -> str:
    """The id of the LoadImage node that loads the group photo."""
    ids = [i for i, n in prompt.items() if n["class_type"] == "LoadImage" and n["inputs"]["image"] == GROUP_INPUT]
    assert len(ids) == 1, f"expected one LoadImage of group.jpg, found {ids}"
    return ids[0]


def changed_pixels(image: np.ndarray, photo: np.ndarray) -> np.ndarray:
    return np.any(image != photo, axis=-1)


def check_photo_result(comfyui: ComfyUI, name: str, prompt: dict, entry: dict) -> None:
    """Only the faces of group.jpg changed: its bottom third (far below both faces) is bit-identical to the
    photo as LoadImage decoded it (8-bit JPEG pixels, saved as PNG), and each half's top has new pixels."""
    (photo,) = output_images(comfyui, entry, INPUT_PREVIEW)
    result_type = RESULT_NODE.get(name, "SaveImage")
    (result,) = [i for i, node in prompt.items() if node["class_type"] == result_type and i != INPUT_PREVIEW]
    (image,) = output_images(comfyui, entry, result)
    assert image.shape == photo.shape
    height, width = photo.shape[:2]
    far = slice(2 * height // 3, None)
    assert not changed_pixels(image[far], photo[far]).any(), f"{name} changed pixels far from the faces"

    changed = changed_pixels(image, photo)
    top_left, top_right = changed[: height // 2, : width // 2], changed[: height // 2, width // 2 :]
    assert top_right.sum() > 1000, f"{name}: the right face did not change"
    if name == "swap-face-into-photo":  # max_faces 1: only the largest face (the right one) is swapped
        assert not changed[:, : width // 2].any(), f"{name} changed the left person"
    else:
        assert top_left.sum() > 1000, f"{name}: the left face did not change"

    for node in previews_of(comfyui, prompt, "count"):
        assert entry["outputs"][node]["text"] == [str(GROUP_FACES)], entry["outputs"][node]

    mask_previews = [i for i, n in prompt.items() if n["class_type"] == "MaskToImage"]
    for mask_node in mask_previews:
        (preview,) = [i for i, n in prompt.items() if n["inputs"].get("images") == [mask_node, 0]]
        (mask,) = output_images(comfyui, entry, preview)
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


# A PNG that holds pixels only: header, image data, end. No tEXt/iTXt/zTXt (prompt, workflow), eXIf, iCCP...
PIXEL_ONLY_PNG_CHUNKS = {b"IHDR", b"IDAT", b"IEND"}


def png_chunk_types(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    types, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        types.append(data[offset + 4 : offset + 8])
        offset += 12 + length  # length, type, data, CRC
    return types


def check_private_save(comfyui: ComfyUI, prompt: dict, entry: dict, node: str) -> None:
    """FaceAnon Save Image (Private) wrote the result as a PNG of the photo's size that holds nothing but
    pixels, under a name that does not come from the input, with the report as a JSON sidecar; the report
    that Preview as Text shows has one complete record per face, and no face left recognizable."""
    inputs = prompt[node]["inputs"]
    assert inputs["file_format"] == "png" and inputs["naming"] == "counter", inputs
    (ref,) = entry["outputs"][node]["images"]
    path = saved_file(comfyui, ref)
    assert ref["subfolder"] == "" and ref["filename"].startswith(f"{inputs['filename_prefix']}_"), ref
    assert ref["filename"].endswith(".png") and "group" not in ref["filename"].lower(), ref
    with open(path, "rb") as f:
        data = f.read()
    for secret in (b"workflow", b"prompt", b"group"):
        assert secret not in data, f"{secret!r} in {path}"
    assert set(png_chunk_types(data)) <= PIXEL_ONLY_PNG_CHUNKS, png_chunk_types(data)
    with Image.open(path) as saved:
        assert isinstance(saved, PngImagePlugin.PngImageFile)
        assert saved.size == comfyui.photo_size
        assert set(saved.info) <= {"dpi"}, saved.info
        assert saved.text == {} and not saved.getexif(), (saved.text, dict(saved.getexif()))

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


def test_example_workflows_are_offered_in_the_template_browser(comfyui):
    names = sorted(workflow_name(path) for path in WORKFLOWS)
    assert sorted(comfyui.client.get("/workflow_templates")[PACK_NAME]) == names
    with open(WORKFLOWS[0], encoding="utf-8") as f:
        expected = json.load(f)
    assert comfyui.client.get(f"/api/workflow_templates/{PACK_NAME}/{names[0]}.json") == expected


def test_every_example_workflow_has_expectations():
    assert WORKFLOWS, "no workflows/*.json"
    assert {workflow_name(path) for path in WORKFLOWS} == set(EXPECTED_IMAGES)


@pytest.mark.parametrize("path", WORKFLOWS, ids=workflow_name)
def test_example_workflow_runs(comfyui, path):
    name = workflow_name(path)
    if name in IN_THE_WILD:
        provide_photos(comfyui)
    prompt = small_prompt(comfyui, name)
    steps = {node["class_type"]: node["inputs"]["steps"] for node in prompt.values() if "steps" in node["inputs"]}
    assert set(steps.values()) <= {2}, f"add the node to SMALL_VALUES to keep this test fast: {steps}"
    output_nodes = {i: node["class_type"] for i, node in prompt.items() if node["class_type"] in IMAGE_OUTPUT_NODES}
    targets = None
    if name in PARTIAL_RUNS:
        targets = [i for i, class_type in output_nodes.items() if class_type in PARTIAL_RUNS[name]]
        output_nodes = {i: output_nodes[i] for i in targets}
    if name in IN_THE_WILD:  # also show the photo as LoadImage decodes it, to compare pixels with
        prompt[INPUT_PREVIEW] = {"class_type": "PreviewImage", "inputs": {"images": [photo_loader(prompt), 0]}}
        if targets is not None:
            targets.append(INPUT_PREVIEW)
    entry = run(comfyui, prompt, targets=targets)
    assert_success(entry)

    expected = EXPECTED_IMAGES[name]
    assert sorted(output_nodes.values()) == sorted(expected)
    for node, class_type in output_nodes.items():
        refs = entry["outputs"][node]["images"]
        assert len(refs) == 1, refs
        if class_type in SAVE_NODES:
            assert os.path.isfile(saved_file(comfyui, refs[0]))
        else:
            assert refs[0]["type"] == "temp"
        (image,) = output_images(comfyui, entry, node)
        width, height = comfyui.photo_size if expected[class_type] == PHOTO_SIZE else expected[class_type]
        assert image.shape == (height, width, 3), f"{class_type} of {name}"
        assert image.max() > image.min(), f"{class_type} of {name} is one flat colour"
    if name in IN_THE_WILD:
        check_photo_result(comfyui, name, prompt, entry)
    for node in (i for i, n in prompt.items() if n["class_type"] == "FaceAnonSaveImagePrivate"):
        check_private_save(comfyui, prompt, entry, node)


@contextlib.contextmanager
def busy_server(comfyui: ComfyUI):
    """Keep the server busy with a long FaceAnon Sampler run, so prompts queued meanwhile stay pending;
    it is interrupted on exit. Yields its prompt id."""
    prompt = set_inputs(small_prompt(comfyui, "modular-anonymize"), "FaceAnonSampler", steps=500, seed=7)
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


def test_inpaint_workflow_passes_validation_as_a_whole(comfyui):
    """The SD polishing part cannot run (no real checkpoint), but ComfyUI must accept the whole workflow:
    every node known, every link of the right type, every value valid. It is queued while the server is
    busy and deleted before it can start."""
    provide_photos(comfyui)
    prompt = small_prompt(comfyui, "anonymize-and-inpaint-seams")
    assert prompt[node_id(prompt, "CheckpointLoaderSimple")]["inputs"]["ckpt_name"] == SD_CHECKPOINT
    with busy_server(comfyui):
        prompt_id = comfyui.client.queue_prompt(prompt)  # raises PromptRejected unless node_errors == {}
        assert prompt_id in comfyui.client.pending_prompt_ids()
        comfyui.client.delete_pending(prompt_id)
        queue = comfyui.client.get("/queue")
        assert prompt_id not in [item[1] for item in queue["queue_pending"] + queue["queue_running"]]
    assert comfyui.client.get(f"/history/{prompt_id}") == {}, "the workflow ran with the stand-in checkpoint"


def test_private_workflow_fails_closed_on_faces_that_stay_recognizable(comfyui):
    """With the pasted region shrunk (grow -0.2) most of each original face stays, so face recognition still
    matches both faces: each is generated again max_retries times, with new seeds and a stronger degree, then
    redacted, and the report says so. With fail_closed off the run stops with an error and saves nothing.
    (One retry, then none, to keep it short.)"""
    provide_photos(comfyui)
    prompt = small_prompt(comfyui, "anonymize-verify-save-private")
    set_inputs(prompt, "FaceAnonAnonymizeFacesInImage", grow=-0.2)
    set_inputs(prompt, "FaceAnonVerifierLoader", max_retries=1)
    anonymize = prompt[node_id(prompt, "FaceAnonAnonymizeFacesInImage")]["inputs"]
    verifier = prompt[node_id(prompt, "FaceAnonVerifierLoader")]["inputs"]
    entry = run(comfyui, prompt)
    assert_success(entry)
    check_private_save(comfyui, prompt, entry, node_id(prompt, "FaceAnonSaveImagePrivate"))
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
    prompt = small_prompt(comfyui, "modular-anonymize")
    set_inputs(prompt, "FaceAnonEncodeReference", width=64, height=80)  # non-square: both resize the 64x64 input
    set_inputs(prompt, "FaceAnonBlend", degree=1.25)
    set_inputs(prompt, "FaceAnonSampler", denoise=1.0, **settings)
    set_inputs(prompt, "FaceAnonModelLoader", precision="fp32")
    entry = run(comfyui, prompt)
    assert_success(entry)
    (image,) = output_images(comfyui, entry, node_id(prompt, "SaveImage"))

    expected = pipeline(driving=golden_image("img_a"), degree=1.25, width=64, height=80, **settings)[0]
    assert image.shape == expected.shape == (80, 64, 3)
    # SaveImage truncates to 8 bits: up to 1/255 below the float value.
    np.testing.assert_allclose(image / 255.0, expected, rtol=0, atol=1 / 255 + 1e-3)
    assert np.abs(image / 255.0 - expected).mean() < 1 / 255


def test_masked_workflow_regenerates_only_the_masked_latents(comfyui):
    prompt = small_prompt(comfyui, "masked-anonymize")
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
    prompt = set_inputs(small_prompt(comfyui, "modular-anonymize"), "FaceAnonSampler", steps=steps, seed=99)
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

    again = run(comfyui, set_inputs(small_prompt(comfyui, "modular-anonymize"), "FaceAnonSampler", seed=100))
    assert_success(again)
    assert node_id(prompt, "SaveImage") in again["outputs"]


def test_unknown_model_name_is_a_validation_error(comfyui):
    prompt = small_prompt(comfyui, "anonymize-aligned-face")
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
    prompt = set_inputs(small_prompt(comfyui, "anonymize-aligned-face"), "FaceAnonModelLoader", model_name="no-weights")

    error = execution_error(run(comfyui, prompt))
    assert error["node_type"] == "FaceAnonModelLoader"
    assert error["exception_type"].endswith("ModelFileMissingError")  # a ModelFileError
    headline, *lines, hint = error["exception_message"].splitlines()
    assert re.fullmatch(r"\d+ model files are missing, about [\d.]+ GB\.", headline)  # short, for the dialog
    for component in ("unet", "referencenet", "conditioning_referencenet"):  # one line per file, direct links
        assert (f"  {os.path.join(broken, component, 'diffusion_pytorch_model.safetensors')}  <-  https://huggingface.co/"
                f"hkung/face-anon-simple/resolve/main/{component}/diffusion_pytorch_model.safetensors") in lines
    assert "'download' toggle" in hint


@needs_shared_data
def test_detector_and_verifier_loaders_list_the_files_in_the_face_anon_folders(comfyui):
    """extra_model_paths.yaml's face_anon folder is searched, and its files are offered by name."""
    for node_type, section, name, expected in (("FaceAnonDetectorLoader", "optional", "detector_file", os.path.basename(YUNET)),
                                               ("FaceAnonVerifierLoader", "optional", "recognizer_file", os.path.basename(SFACE))):
        info = comfyui.client.get(f"/object_info/{node_type}")[node_type]
        assert info["input_order"][section][-1] == name  # appended: saved workflows keep their widget order
        choices = info["input"][section][name][0]
        assert choices[0] == "auto" and expected in choices


def test_clip_vision_other_than_vit_l_is_rejected(comfyui):
    write_vit_h_keys_only(os.path.join(comfyui.models, "clip_vision", "vit-h-keys-only.safetensors"))
    prompt = small_prompt(comfyui, "modular-anonymize")
    prompt["clip_vision"] = {"class_type": "CLIPVisionLoader", "inputs": {"clip_name": "vit-h-keys-only.safetensors"}}
    set_inputs(prompt, "FaceAnonModelLoader", clip_vision=["clip_vision", 0])

    error = execution_error(run(comfyui, prompt))
    assert error["node_type"] == "FaceAnonModelLoader"
    message = error["exception_message"]
    assert "width 1280" in message and "FaceAnon needs CLIP ViT-L/14" in message

