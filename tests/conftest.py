# SPDX-License-Identifier: AGPL-3.0-or-later
"""Import the repository root as the package ``faceanon`` so tests exercise the working tree.

The root is a ComfyUI node pack (imported by ComfyUI under its folder name) and, once installed, the
``faceanon`` package. Tests use the latter name without needing an install.
"""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def _register_root_package() -> None:
    existing = sys.modules.get("faceanon")
    if existing is not None and os.path.abspath(list(existing.__path__)[0]) == ROOT:
        return
    spec = importlib.util.spec_from_file_location(
        "faceanon", os.path.join(ROOT, "__init__.py"), submodule_search_locations=[ROOT]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["faceanon"] = module
    spec.loader.exec_module(module)


_register_root_package()

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

GOLDEN = os.path.join(ROOT, "tests", "fixtures", "golden")
TINY_MODEL = os.path.join(GOLDEN, "model")
FIXTURE_MODELS = os.path.join(ROOT, "tests", "fixtures", "models")


def model_for_tests(name: str) -> str:
    """A face model file for tests: the copy in tests/fixtures/models when there is one, else ../shared/models."""
    shipped = os.path.join(FIXTURE_MODELS, name)
    return shipped if os.path.isfile(shipped) else os.path.join(SHARED, "models", name)


CENTERFACE = model_for_tests("centerface.onnx")


def golden_image(name: str) -> Image.Image:
    return Image.open(os.path.join(GOLDEN, "inputs", f"{name}.png")).convert("RGB")


@pytest.fixture(scope="session")
def pipeline():
    from faceanon.core import FaceAnonPipeline

    return FaceAnonPipeline.from_pretrained(TINY_MODEL, device="cpu", dtype="fp32")


@pytest.fixture
def face_a() -> Image.Image:
    return golden_image("img_a")


@pytest.fixture
def face_b() -> Image.Image:
    return golden_image("img_b")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
