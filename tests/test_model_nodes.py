# SPDX-License-Identifier: AGPL-3.0-or-later
"""The loader nodes find model files in ComfyUI's face_anon folders (a stand-in folder_paths) and $FACEANON_MODELS."""

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from faceanon.core import FaceAnonError, ModelFileError
from faceanon.core.model_catalog import CATALOG
from faceanon.core.model_files import folder_for, locate, record
from faceanon.nodes.detector_loader import FaceAnonDetectorLoader
from faceanon.nodes.paths import available_models, model_path, model_roots, register_model_folder
from faceanon.nodes.verifier_loader import FaceAnonVerifierLoader

from conftest import CENTERFACE, SFACE as SFACE_INT8, YUNET as YUNET_INT8  # noqa: E402  (test models shipped in the repo)


@pytest.fixture
def comfy(tmp_path, monkeypatch):
    """A stand-in for ComfyUI's folder_paths, with an extra_model_paths.yaml-style face_anon folder."""
    models = tmp_path / "ComfyUI" / "models"
    extra = tmp_path / "extra" / "face_anon"
    folder_paths = SimpleNamespace(
        models_dir=str(models),
        supported_pt_extensions={".safetensors", ".ckpt"},
        folder_names_and_paths={"face_anon": ([str(extra)], set())},
    )
    folder_paths.get_folder_paths = lambda key: list(folder_paths.folder_names_and_paths[key][0])
    monkeypatch.setitem(sys.modules, "folder_paths", folder_paths)
    monkeypatch.delenv("FACEANON_MODELS", raising=False)
    register_model_folder()
    return SimpleNamespace(default=models / "face_anon", extra=extra, env=tmp_path / "env")


def _place(spec, root, name=None, source=None):
    path = folder_for(spec, root) / (name or spec.file_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if source is None:
        path.write_bytes(b"x")
    else:
        path.symlink_to(source)
    return path


def test_comfyui_folders_come_first_then_the_environment(comfy, monkeypatch):
    assert model_roots() == [comfy.extra, comfy.default]
    monkeypatch.setenv("FACEANON_MODELS", str(comfy.env))
    assert model_roots() == [comfy.extra, comfy.default, comfy.env]


@pytest.mark.parametrize("key", list(CATALOG))
def test_every_file_resolves_from_each_face_anon_folder_and_the_environment(comfy, monkeypatch, key):
    spec = record(key)
    monkeypatch.setenv("FACEANON_MODELS", str(comfy.env))
    in_env = _place(spec, comfy.env)
    assert locate(spec, model_roots()) == in_env
    in_default = _place(spec, comfy.default)
    assert locate(spec, model_roots()) == in_default  # ComfyUI/models/face_anon
    in_extra = _place(spec, comfy.extra)
    assert locate(spec, model_roots()) == in_extra  # extra_model_paths.yaml's face_anon entry, listed first


def test_model_folders_are_listed_from_every_face_anon_folder(comfy):
    for root, name in ((comfy.extra, "from-extra"), (comfy.default, "face-anon-simple")):
        for component in ("unet", "referencenet", "conditioning_referencenet"):
            (root / name / component).mkdir(parents=True)
    (comfy.default / "not-a-model").mkdir()
    assert available_models() == ["face-anon-simple", "from-extra"]
    assert model_path("from-extra") == str(comfy.extra / "from-extra")
    assert model_path("new-one") == str(comfy.extra / "new-one")  # where a download would put it


def test_detector_loader_lists_the_detector_files_it_finds(comfy):
    yunet = record("yunet")
    _place(yunet, comfy.default, "face_detection_yunet_2023mar_int8.onnx")
    _place(yunet, comfy.extra, "face_detection_yunet_2023mar_int8bq.onnx")
    _place(yunet, comfy.extra, "notes.txt")
    inputs = FaceAnonDetectorLoader.INPUT_TYPES()
    assert list(inputs["required"]) == ["score_threshold", "download"]
    assert list(inputs["optional"]) == ["mode", "detector_file"]  # the new input comes last, and is optional
    choices, options = inputs["optional"]["detector_file"]
    assert choices == ["auto", "face_detection_yunet_2023mar_int8.onnx", "face_detection_yunet_2023mar_int8bq.onnx"]
    assert options["default"] == "auto" and "face_detection_yunet*.onnx" in options["tooltip"]


def test_verifier_loader_lists_the_recognizer_files_it_finds(comfy):
    _place(record("sface"), comfy.default, "face_recognition_sface_2021dec_int8.onnx")
    inputs = FaceAnonVerifierLoader.INPUT_TYPES()
    assert list(inputs["required"]) == ["similarity_threshold", "max_retries", "degree_step", "max_degree", "download"]
    choices, options = inputs["optional"]["recognizer_file"]
    assert choices == ["auto", "face_recognition_sface_2021dec_int8.onnx"] and options["default"] == "auto"
    assert "face_recognition_sface*.onnx" in options["tooltip"]


def test_missing_detector_error_reads_well_in_a_dialog(comfy):
    with pytest.raises(ModelFileError) as caught:
        FaceAnonDetectorLoader().load(0.9, False)
    headline, line, hint = str(caught.value).splitlines()
    assert headline == "The YuNet face detector file face_detection_yunet_2023mar.onnx is missing."
    target, links = line.strip().split("  <-  ")
    assert target == str(comfy.extra / "detectors" / "face_detection_yunet_2023mar.onnx")
    assert links.startswith("https://huggingface.co/opencv/face_detection_yunet/resolve/main/")
    assert "'download' toggle" in hint


def test_missing_recognizer_error_points_at_the_download_toggle(comfy):
    _place(record("yunet"), comfy.default)
    with pytest.raises(ModelFileError) as caught:
        FaceAnonVerifierLoader().load(0.363, 2, 0.1, 1.5, False)
    lines = str(caught.value).splitlines()
    assert lines[0] == "The SFace face recognizer file face_recognition_sface_2021dec.onnx is missing."
    assert "/opencv/face_recognition_sface/resolve/main/" in lines[1] and "'download' toggle" in lines[-1]


def test_a_file_choice_that_is_gone_is_named(comfy):
    with pytest.raises(FaceAnonError, match="detector_file: 'face_detection_yunet_gone.onnx' is not in"):
        FaceAnonDetectorLoader().load(0.9, False, detector_file="face_detection_yunet_gone.onnx")
    with pytest.raises(FaceAnonError, match="recognizer_file: '../x.onnx' is not in"):
        FaceAnonVerifierLoader().load(0.363, 2, 0.1, 1.5, False, recognizer_file="../x.onnx")


def test_the_chosen_files_are_loaded(comfy):
    chosen = _place(record("yunet"), comfy.default, YUNET_INT8.name, YUNET_INT8)
    other = _place(record("yunet"), comfy.extra, "face_detection_yunet_other.onnx", YUNET_INT8)
    assert FaceAnonDetectorLoader().load(0.9, False, "fast", detector_file=YUNET_INT8.name)[0].model_path == chosen
    assert FaceAnonDetectorLoader().load(0.9, False, "fast")[0].model_path == other  # auto: the first folder's file
    centerface = _place(record("centerface"), comfy.default, "centerface.onnx", CENTERFACE)
    recall = FaceAnonDetectorLoader().load(0.9, False, detector_file=YUNET_INT8.name)[0]  # the default mode
    assert recall.yunet.model_path == chosen and recall.centerface.model_path == centerface
    recognizer = _place(record("sface"), comfy.default, SFACE_INT8.name, SFACE_INT8)
    verification = FaceAnonVerifierLoader().load(0.363, 2, 0.1, 1.5, False, recognizer_file=SFACE_INT8.name)[0]
    assert os.path.samefile(verification.verifier.recognizer.model_path, recognizer)


def test_saved_prompts_without_the_file_inputs_still_load(comfy):
    """API prompts written before detector_file/recognizer_file existed omit them: the defaults apply."""
    _place(record("yunet"), comfy.default, YUNET_INT8.name, YUNET_INT8)
    detector = FaceAnonDetectorLoader().load(0.5, False, "fast")[0]
    assert detector.model_path.name == YUNET_INT8.name and detector.mode == "fast"
