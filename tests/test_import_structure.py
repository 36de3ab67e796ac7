# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pack's import structure: one way (nodes and cli over core), and no module loop, type-only imports included.

Read from the source with ``ast``, so that imports inside functions and under ``TYPE_CHECKING`` count too.
"""

import ast
import os
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGES = ("core", "nodes", "cli")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted(Path(ROOT, package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _imports(name: str, path: Path) -> set[str]:
    """Every module this one imports: relative imports resolved, absolute ones as written."""
    found = set()
    package = _package_of(name, path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(node.module or "")
                continue
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join(base + ([node.module] if node.module else []))
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from . import module`
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        targets = {target for target in _imports(name, path) if target in modules and target != name}
        # Importing a package's module also runs the package's __init__; that edge is not a loop of the
        # module's own making, so only the module itself is counted.
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _without_package_faces(graph):
    """A package's __init__ that only re-exports its modules is its face, not a party to a loop with them."""
    return {name: {t for t in targets if not (name.startswith(t + ".") and t in graph)} for name, targets in graph.items()}


def test_no_module_imports_itself_through_others():
    cycles = _cycles(_without_package_faces(_graph()))
    assert cycles == [], "import loops: " + "; ".join(" <-> ".join(cycle) for cycle in cycles)


def test_a_loop_is_found_when_there_is_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", [n for n in _modules() if n.startswith("core")])
def test_core_imports_neither_the_front_ends_nor_comfyui(name):
    path = _modules()[name]
    forbidden = {"nodes", "cli", "comfy", "comfy_extras", "folder_paths", "server", "execution"}
    bad = sorted(t for t in _imports(name, path) if t.split(".")[0] in forbidden)
    assert not bad, f"{os.path.relpath(path, ROOT)} imports {bad}"


def test_nodes_and_cli_do_not_import_each_other():
    for name, targets in _graph().items():
        front = name.split(".")[0]
        if front in ("nodes", "cli"):
            other = "cli" if front == "nodes" else "nodes"
            assert not [t for t in targets if t.split(".")[0] == other], f"{name} imports {other}"


def test_every_package_folder_is_installed():
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        listed = set(tomllib.load(file)["tool"]["setuptools"]["packages"])
    folders = {"faceanon." + ".".join(p.parent.relative_to(ROOT).parts) for package in PACKAGES
               for p in Path(ROOT, package).rglob("__init__.py")}
    assert folders - listed == set(), "pyproject.toml's packages leave these out of the wheel"
