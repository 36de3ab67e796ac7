# SPDX-License-Identifier: AGPL-3.0-or-later
"""FaceAnon Save Image (Private): pixels only, neutral names, nothing overwritten, optional report sidecar."""

import hashlib
import json
import struct
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from faceanon.core import FaceAnonError
from faceanon.nodes.private_save import FaceAnonSaveImagePrivate

INPUT_NAME = "jane_doe_passport_photo"
SAVE = dict(filename_prefix="faceanon", file_format="png", quality=95, naming="counter")


@pytest.fixture
def images(tmp_path):
    """A batch of two images read from a file that carries a name, a prompt, a workflow and EXIF."""
    rng = np.random.default_rng(3)
    pixels = (np.linspace(0, 255, 96 * 128 * 3).reshape(96, 128, 3) + rng.integers(0, 40, (96, 128, 3))) % 256
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", '{"1": {"inputs": {"image": "%s.png"}}}' % INPUT_NAME)
    info.add_text("workflow", '{"nodes": []}')
    exif = Image.Exif()
    exif[0x010E] = INPUT_NAME  # ImageDescription
    source = tmp_path / f"{INPUT_NAME}.png"
    Image.fromarray(pixels.astype(np.uint8)).save(source, pnginfo=info, exif=exif)
    loaded = np.asarray(Image.open(source).convert("RGB"), np.float32) / 255
    return torch.from_numpy(np.stack([loaded, loaded[::-1]]))


def _png_chunks(data):
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunks.append(kind.decode())
        offset += 12 + length
    return chunks


def _jpeg_segments(data):
    """Marker codes of the segments before the compressed scan."""
    markers, offset = [], 2
    while data[offset + 1] != 0xDA:
        markers.append(data[offset + 1])
        offset += 2 + struct.unpack(">H", data[offset + 2 : offset + 4])[0]
    return markers


def _webp_chunks(data):
    chunks, offset = [], 12
    while offset < len(data):
        kind, size = struct.unpack("<4sI", data[offset : offset + 8])
        chunks.append(kind.decode())
        offset += 8 + size + (size & 1)
    return chunks


@pytest.mark.parametrize("file_format", ["png", "jpeg", "webp"])
def test_saved_files_hold_pixels_only(tmp_path, images, file_format):
    out = tmp_path / "out"
    result = FaceAnonSaveImagePrivate().save(images, **{**SAVE, "file_format": file_format}, output_dir=str(out))
    saved = sorted(out.iterdir())
    extension = "jpg" if file_format == "jpeg" else file_format
    assert [p.name for p in saved] == [f"faceanon_0000{i}.{extension}" for i in (1, 2)]
    assert result == {"ui": {"images": [{"filename": p.name, "subfolder": "", "type": "output"} for p in saved]}}
    for path in saved:
        data = path.read_bytes()
        for secret in (INPUT_NAME.encode(), b"jane", b"prompt", b"workflow", b"Exif", b"XMP", b"ICC"):
            assert secret not in data, f"{secret!r} found in {path.name}"
        with Image.open(path) as image:
            assert not image.getexif() and image.size == (128, 96)
            metadata = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "prompt", "workflow"}
            assert not metadata & set(image.info)
        if file_format == "png":
            assert _png_chunks(data) == ["IHDR"] + ["IDAT"] * (len(_png_chunks(data)) - 2) + ["IEND"]
        elif file_format == "jpeg":
            assert set(_jpeg_segments(data)) <= {0xE0, 0xDB, 0xC0, 0xC4}  # JFIF, tables, frame; no APPn/COM
        else:
            assert set(_webp_chunks(data)) <= {"VP8 ", "VP8L"}
    png = np.asarray(Image.open(saved[0])) if file_format == "png" else None
    if png is not None:
        np.testing.assert_array_equal(png, np.rint(images[0].numpy() * 255).astype(np.uint8))


def test_existing_files_are_never_overwritten(tmp_path, images):
    (tmp_path / "faceanon_00001.png").write_bytes(b"not mine")
    (tmp_path / "faceanon_00003.json").write_text("{}")
    FaceAnonSaveImagePrivate().save(images, **SAVE, output_dir=str(tmp_path))
    assert (tmp_path / "faceanon_00001.png").read_bytes() == b"not mine"
    assert (tmp_path / "faceanon_00003.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.glob("faceanon_*.png")) == [
        "faceanon_00001.png", "faceanon_00004.png", "faceanon_00005.png"  # the counter continues after the highest
    ]


def test_content_hash_names(tmp_path, images):
    node = FaceAnonSaveImagePrivate()
    first = node.save(images[:1], **{**SAVE, "naming": "content_hash"}, output_dir=str(tmp_path))["ui"]["images"][0]
    again = node.save(images[:1], **{**SAVE, "naming": "content_hash"}, output_dir=str(tmp_path))["ui"]["images"][0]
    data = (tmp_path / first["filename"]).read_bytes()
    assert first["filename"] == f"faceanon_{hashlib.sha256(data).hexdigest()[:16]}.png"
    assert again["filename"] == first["filename"].replace(".png", "_2.png")
    assert (tmp_path / again["filename"]).read_bytes() == data


def test_report_sidecars(tmp_path, images):
    report = json.dumps([{"image_index": 1, "face_index": 0, "action": "anonymized"},
                         {"image_index": 0, "face_index": 0, "action": "redacted"}])
    FaceAnonSaveImagePrivate().save(images, **SAVE, report=report, output_dir=str(tmp_path))
    sidecars = [json.loads((tmp_path / f"faceanon_0000{i}.json").read_text()) for i in (1, 2)]
    assert sidecars == [{"faces": [{"image_index": 0, "face_index": 0, "action": "redacted"}]},
                        {"faces": [{"image_index": 1, "face_index": 0, "action": "anonymized"}]}]
    with pytest.raises(FaceAnonError, match="report: expected the JSON report"):
        FaceAnonSaveImagePrivate().save(images, **SAVE, report="not json", output_dir=str(tmp_path))


def test_output_folder_and_bad_inputs(tmp_path, images, monkeypatch):
    node = FaceAnonSaveImagePrivate()
    with pytest.raises(FaceAnonError, match="output_dir: not running inside ComfyUI"):
        node.save(images, **SAVE)
    monkeypatch.setitem(sys.modules, "folder_paths", SimpleNamespace(get_output_directory=lambda: str(tmp_path)))
    node.save(images[:1], **SAVE)
    assert (tmp_path / "faceanon_00001.png").is_file()
    with pytest.raises(FaceAnonError, match="filename_prefix"):
        node.save(images, **{**SAVE, "filename_prefix": "../elsewhere"})
    with pytest.raises(FaceAnonError, match="images: expected an IMAGE"):
        node.save(torch.zeros(3, 8, 8), **SAVE)
