# SPDX-License-Identifier: AGPL-3.0-or-later
"""A throw-away ComfyUI instance for the end-to-end tests: its folders, models and server process.

Used by test_comfyui_e2e.py (HTTP API) and test_template_browser.py (a real browser). The checkout in
$COMFYUI_PATH is only read: models, inputs, outputs, user settings and the pack (a symlink to this repository)
live under a temporary root given to ComfyUI on its command line and in an extra_model_paths.yaml.

Models are tiny stand-ins: FaceAnon's random model from tests/fixtures/golden, the shared YuNet and SFace files,
and (comfyui_test_models.py) stand-ins for the third-party files: ``third_party`` writes them under the exact file
names the example workflows pick, so they open without a missing-models dialog: an upscaler saved as
``RealESRGAN_x4plus.pth``, a TAESD saved as the SD VAE, and an empty file as the SD checkpoint (enough for
validation; it cannot be loaded).
"""

from __future__ import annotations

import json
import os
import shutil

from comfyui_server import ComfyClient, ComfyUIProcess, comfyui_python, free_port
from comfyui_test_models import write_compact_upscaler_pth, write_taesd_vae
from conftest import CENTERFACE, ROOT, SFACE, TINY_MODEL, YUNET

PACK_NAME = "ComfyUI-FaceAnon"
STARTUP_TIMEOUT = 120


# The third-party files the example workflows name (each workflow's loader carries their download metadata).
UPSCALER_FILE = "RealESRGAN_x4plus.pth"
VAE_FILE = "vae-ft-mse-840000-ema-pruned.safetensors"
SD_CHECKPOINT = "v1-5-pruned-emaonly-fp16.safetensors"

MODEL_FOLDERS = {
    "face_anon": "models/face_anon",
    "upscale_models": "models/upscale_models",
    "vae": "models/vae",
    "clip_vision": "models/clip_vision",
    "checkpoints": "models/checkpoints",
}


def _write_extra_model_paths(root: str) -> str:
    folders = {**MODEL_FOLDERS, "custom_nodes": "custom_nodes"}
    lines = ["faceanon_e2e:", f"  base_path: {json.dumps(root)}"] + [f"  {k}: {v}" for k, v in folders.items()]
    path = os.path.join(root, "extra_model_paths.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_third_party_standins(root: str) -> None:
    """Tiny files under the names the example workflows pick (see the module docstring)."""
    models = os.path.join(root, "models")
    write_compact_upscaler_pth(os.path.join(models, "upscale_models", UPSCALER_FILE))
    write_taesd_vae(os.path.join(models, "vae", VAE_FILE))
    open(os.path.join(models, "checkpoints", SD_CHECKPOINT), "wb").close()


def prepare_instance(root: str, third_party: bool = True) -> str:
    """Models, custom_nodes, input/output/user folders and extra_model_paths.yaml under ``root``; returns the
    yaml's path."""
    for folder in [*MODEL_FOLDERS.values(), "models/face_anon/detectors", "models/face_anon/recognizers",
                   "custom_nodes", "input", "output", "user"]:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    shutil.copytree(TINY_MODEL, os.path.join(root, "models", "face_anon", "face-anon-simple"))
    # the shipped test models; the int8 YuNet and SFace variants are accepted next to the canonical names
    for model, folder in ((YUNET, "detectors"), (CENTERFACE, "detectors"), (SFACE, "recognizers")):
        shutil.copy(model, os.path.join(root, "models", "face_anon", folder))
    if third_party:
        write_third_party_standins(root)
    os.symlink(ROOT, os.path.join(root, "custom_nodes", PACK_NAME))
    return _write_extra_model_paths(root)


def start_comfyui(comfy_path: str, root: str, extra_args: tuple[str, ...] = ()) -> tuple[ComfyUIProcess, ComfyClient]:
    """``python main.py --cpu ...`` on a free loopback port, with everything it writes under ``root``; returns
    once FaceAnon's nodes are listed."""
    port = free_port()
    process = ComfyUIProcess(
        comfy_path,
        comfyui_python(comfy_path),
        port,
        [
            "--extra-model-paths-config", os.path.join(root, "extra_model_paths.yaml"),
            "--input-directory", os.path.join(root, "input"),
            "--output-directory", os.path.join(root, "output"),
            "--temp-directory", root,
            "--user-directory", os.path.join(root, "user"),
            "--database-url", "sqlite:///:memory:",
            *extra_args,
        ],
        os.path.join(root, "comfyui.log"),
        {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"},
    )
    process.start()
    client = ComfyClient("127.0.0.1", port)
    try:
        process.wait_until_ready(client, "/object_info/FaceAnonModelLoader", STARTUP_TIMEOUT)
    except BaseException:
        process.stop()
        raise
    return process, client
