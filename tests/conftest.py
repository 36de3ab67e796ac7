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
