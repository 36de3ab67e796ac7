# SPDX-License-Identifier: AGPL-3.0-or-later
"""Save Image (Private): images saved with no prompt, workflow or other metadata, under neutral names."""

from __future__ import annotations

import json
import os

from ..core.engine.private_save import FORMATS, NAMINGS, save_private_images
from ..core.errors import FaceAnonError
from .comfy_runtime import comfy_module
from .conversions import check_image
from .face_info import image_list


def output_directory(output_dir: str | None = None) -> str:
    """ComfyUI's output folder; outside ComfyUI, `output_dir` must name one."""
    if output_dir:
        return output_dir
    folder_paths = comfy_module("folder_paths")
    if folder_paths is None:
        raise FaceAnonError("output_dir: not running inside ComfyUI, so a folder to save into must be given")
    return folder_paths.get_output_directory()


def per_image_reports(report: str, count: int) -> list[dict]:
    """Split the JSON report of FaceAnon Anonymize Faces in Image into one record per image."""
    try:
        entries = json.loads(report)
        if not isinstance(entries, list) or not all(isinstance(e, dict) and "image_index" in e for e in entries):
            raise ValueError("not a list of face records")
    except ValueError as error:
        raise FaceAnonError(
            f"report: expected the JSON report of FaceAnon Anonymize Faces in Image ({error})"
        ) from None
    return [{"faces": [e for e in entries if e["image_index"] == index]} for index in range(count)]


class FaceAnonSaveImagePrivate:
    DESCRIPTION = (
        "Saves images to ComfyUI's output folder with no metadata: no prompt, no workflow, no EXIF, XMP, ICC "
        "or text chunks. Files are named by a counter or by their own SHA-256, never after the input, and "
        "existing files are never overwritten. Optionally writes the anonymization report next to each image."
    )
    CATEGORY = "FaceAnon"
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    RETURN_NAMES = ()
    OUTPUT_TOOLTIPS = ()

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The images to save."}),
                "filename_prefix": ("STRING", {"default": "faceanon", "tooltip": "Start of every file name (letters, "
                                    "digits, - and _). Do not put anything identifying here."}),
                "file_format": (list(FORMATS), {"default": "png", "tooltip": "png is lossless; jpeg and webp use "
                                "'quality' (webp at 100 is lossless)."}),
                "quality": ("INT", {"default": 95, "min": 1, "max": 100, "tooltip": "JPEG / WebP quality."}),
                "naming": (list(NAMINGS), {"default": "counter", "tooltip": "counter: <prefix>_00001, _00002, ...; "
                           "content_hash: <prefix>_<first 16 hex digits of the file's SHA-256>."}),
            },
            "optional": {
                "report": ("STRING", {"forceInput": True, "tooltip": "The report of FaceAnon Anonymize Faces in "
                           "Image: each image gets a <name>.json sidecar with the record of its faces."}),
            },
        }

    def save(self, images, filename_prefix, file_format, quality, naming, report=None, output_dir=None):
        arrays = image_list(check_image(images, "images"))
        sidecars = None if report is None else per_image_reports(report, len(arrays))
        folder = output_directory(output_dir)
        paths = save_private_images(arrays, folder, prefix=filename_prefix.strip(), file_format=file_format,
                                    quality=quality, naming=naming, sidecars=sidecars)
        saved = [{"filename": os.path.basename(path), "subfolder": "", "type": "output"} for path in paths]
        return {"ui": {"images": saved}}
