# SPDX-License-Identifier: AGPL-3.0-or-later
"""A non-editable `pip install --no-deps .` into a fresh virtual environment gives a working package
and `faceanon` command. The environment sees the system's packages (torch, diffusers, ...), as a
user's environment with their own torch build would.

The source is copied first so that the build leaves nothing behind in the working tree.
"""

import os
import shutil
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

NOT_COPIED = (".git", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", ".venv", "venv", "models")


def _version(distribution: str) -> tuple[int, int]:
    try:
        return tuple(int(part) for part in metadata.version(distribution).split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return (0, 0)


def _run(*command, cwd, timeout=300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(command, check=False, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin folder of a fresh venv with faceanon installed from a copy of the working tree."""
    if _version("pip") < (22, 3) or _version("setuptools") < (77, 0):
        pytest.skip("needs pip >= 22.3 (for pip --python) and setuptools >= 77 (the build backend) installed")
    workdir = tmp_path_factory.mktemp("install")
    source = workdir / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_COPIED))
    environment = workdir / "venv"
    try:  # pip is run from this interpreter (pip --python), so the venv needs none of its own
        venv.EnvBuilder(system_site_packages=True, with_pip=False).create(environment)
    except Exception as error:  # noqa: BLE001 - e.g. python3-venv missing
        pytest.skip(f"cannot create a virtual environment here: {error}")
    bin_dir = environment / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    # No build isolation: the build uses the installed setuptools instead of fetching it.
    done = _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                "--no-build-isolation", "--no-input", "--disable-pip-version-check", str(source), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    return bin_dir


def test_console_script_help(installed, tmp_path):
    done = _run(str(installed / "faceanon"), "--help", cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    for command in ("anonymize", "swap", "redact", "download", "doctor"):
        assert command in done.stdout
    done = _run(str(installed / "faceanon"), "anonymize", "--help", cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and "--degree" in done.stdout and "--fail-closed" in done.stdout


def test_installed_packages_import_from_site_packages(installed, tmp_path):
    code = ("import faceanon, faceanon.cli, faceanon.core, faceanon.core.faces, faceanon.core.download\n"
            "print(faceanon.__file__)")
    done = _run(str(installed / "python"), "-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    package = Path(done.stdout.strip().splitlines()[-1]).parent
    assert "site-packages" in package.parts
    # Every module of the working tree is installed (importing them all would cost a torch import).
    source_modules = {p.relative_to(ROOT).as_posix() for folder in ("cli", "core", "nodes")
                      for p in (Path(ROOT) / folder).rglob("*.py")} | {"__init__.py"}
    installed_modules = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    assert source_modules == installed_modules


def test_python_dash_m(installed, tmp_path):
    done = _run(str(installed / "python"), "-m", "faceanon.cli", "swap", "--help", cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and "--source" in done.stdout
    done = _run(str(installed / "python"), "-m", "faceanon.cli", "redact", cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "required" in done.stderr
