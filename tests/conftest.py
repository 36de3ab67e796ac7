# SPDX-License-Identifier: AGPL-3.0-or-later
"""Import the repository root as the package ``faceanon`` so tests exercise the working tree, and say
where the test data lives.

The root is a ComfyUI node pack (imported by ComfyUI under its folder name) and, once installed, the
``faceanon`` package. Tests use the latter name without needing an install.
"""

import importlib.util
import os
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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

# Small permissive face models that ship with the repository (licences in their folder's README).
TEST_MODELS = Path(ROOT, "tests", "fixtures", "models")
YUNET = TEST_MODELS / "face_detection_yunet_2023mar_int8bq.onnx"
SFACE = TEST_MODELS / "face_recognition_sface_2021dec_int8bq.onnx"
CENTERFACE = TEST_MODELS / "centerface.onnx"

# Real photos of people may not go into the repository: tests read them from the shared test data beside
# the clone, and only through shared_file, which skips them when it is absent.
SHARED = Path(ROOT).parent / "shared"
# Skip reasons that the end of the run counts, so a contributor knows what was not checked.
SHARED_MISSING = "shared test data missing"
COMFYUI_MISSING = "COMFYUI_PATH is not set"
NOT_CHECKED = {
    SHARED_MISSING: f"real photos from {SHARED} (kept out of the repository)",
    COMFYUI_MISSING: "the end-to-end tests in a real ComfyUI",
}


def shared_file(*parts: str) -> Path:
    """``../shared/<parts>``; the test asking for it (directly or through a fixture) is skipped when it is
    absent, as it is on a public clone."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{SHARED_MISSING}: needs {path}")
    return path


def pytest_terminal_summary(terminalreporter) -> None:
    reasons = [report.longrepr[2] for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple)]
    for tag, what in NOT_CHECKED.items():
        count = sum(tag in reason for reason in reasons)
        if count:
            tests = "test" if count == 1 else "tests"
            terminalreporter.write_line(f"{count} {tests} skipped, not checked here ({tag}): {what}")


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
