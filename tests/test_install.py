# SPDX-License-Identifier: AGPL-3.0-or-later
"""A wheel of the project, installed without its dependencies into a fresh virtual environment, gives a
working package and `faceanon` command.

The wheel is built by the interpreter running the tests, with its own setuptools (the `test` extra
brings one new enough), so the test does not depend on which Python created the environment or on a
network. The new environment sees this interpreter's packages (torch, diffusers, ...), as a user's
environment with their own torch build would, but not this interpreter's editable install of the
project. The source is copied first so that the build leaves nothing behind in the working tree.
"""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

NOT_COPIED = (".git", ".ci", "tests", "__pycache__", "*.pyc", "build", "dist", "*.egg-info", ".venv", "venv",
              "models")
NEEDED = {"pip": (22, 3), "setuptools": (77, 0)}  # pip --python; the build backend pyproject.toml names


def _version(distribution: str) -> tuple[int, int]:
    try:
        return tuple(int(part) for part in metadata.version(distribution).split(".")[:2])
    except (metadata.PackageNotFoundError, ValueError):
        return (0, 0)


def _run(*command, cwd, timeout=300) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(command, check=False, cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=timeout)


def _site_packages() -> list[str]:
    """Where this interpreter finds its installed packages."""
    folders = [*site.getsitepackages(), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [folder for folder in dict.fromkeys(folders) if os.path.isdir(folder)]


def _python_of(environment: Path) -> Path:
    if os.name == "nt":
        return environment / "Scripts" / "python.exe"
    return environment / "bin" / "python"


def _environment_site_packages(python: Path) -> Path:
    done = _run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=python.parent)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin folder of a fresh venv with faceanon installed from a wheel of the working tree."""
    missing = [f"{name} >= {'.'.join(map(str, least))} (found {'.'.join(map(str, _version(name)))})"
               for name, least in NEEDED.items() if _version(name) < least]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} in {sys.executable}; the test extra brings it "
                    "(pip install -e '.[test]')")
    workdir = tmp_path_factory.mktemp("install")
    source = workdir / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_COPIED))
    # No build isolation: this interpreter's setuptools builds the wheel, instead of one fetched for the build.
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-input",
                 "--disable-pip-version-check", "--wheel-dir", str(workdir / "dist"), str(source), cwd=workdir)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (workdir / "dist").glob("faceanon-*.whl")
    environment = workdir / "venv"
    try:  # pip is run from this interpreter (pip --python), so the venv needs none of its own
        venv.EnvBuilder(with_pip=False).create(environment)
    except Exception as error:  # noqa: BLE001 - e.g. a Python built without venv support
        pytest.skip(f"cannot create a virtual environment with {sys.executable}: {error}")
    python = _python_of(environment)
    # Plain folder lines: the dependencies become importable, the .pth hooks in those folders (such as an
    # editable install of this project) do not run.
    (_environment_site_packages(python) / "test-dependencies.pth").write_text("\n".join(_site_packages()) + "\n")
    done = _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                "--no-input", "--disable-pip-version-check", str(wheel), cwd=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    return python.parent


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
    assert "site-packages" in package.parts and package.is_relative_to(installed.parent)
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
