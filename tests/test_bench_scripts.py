# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bench scripts stay runnable: each one imports the working tree and answers --help.

They are not run in CI (they print figures and take minutes), so a broken import would otherwise go unseen
until someone needs the figures.
"""

import glob
import os
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPTS = sorted(p for p in glob.glob(os.path.join(ROOT, "bench", "bench_*.py")))


def test_there_are_bench_scripts():
    assert len(SCRIPTS) >= 5


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_bench_script_answers_help(script):
    done = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=120,
                          cwd=os.path.join(ROOT, "bench"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
