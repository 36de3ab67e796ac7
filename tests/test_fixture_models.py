# SPDX-License-Identifier: AGPL-3.0-or-later
"""The face models shipped for the tests are the published files their README names, with their licences."""

import hashlib
import re

from conftest import TEST_MODELS

ROW = re.compile(r"^\| (\S+\.onnx) \|.*\| ([0-9a-f]{64}) \|", re.MULTILINE)


def test_every_model_is_listed_with_its_checksum_and_licence_files():
    readme = (TEST_MODELS / "README.md").read_text(encoding="utf-8")
    listed = dict(ROW.findall(readme))
    assert set(listed) == {path.name for path in TEST_MODELS.glob("*.onnx")}
    for name, sha256 in listed.items():
        assert hashlib.sha256((TEST_MODELS / name).read_bytes()).hexdigest() == sha256, name
    for licence in re.findall(r"\]\((LICENSE-[\w-]+\.txt)\)", readme):
        assert (TEST_MODELS / licence).read_text(encoding="utf-8").strip()
    assert {path.name for path in TEST_MODELS.glob("LICENSE-*")} <= set(re.findall(r"LICENSE-[\w-]+\.txt", readme))
