# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bench scripts import the working tree as the package ``faceanon``, as the tests do, without an install."""

from __future__ import annotations

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def import_package() -> None:
    if "faceanon" not in sys.modules:
        spec = importlib.util.spec_from_file_location("faceanon", os.path.join(ROOT, "__init__.py"),
                                                      submodule_search_locations=[ROOT])
        module = importlib.util.module_from_spec(spec)
        sys.modules["faceanon"] = module
        spec.loader.exec_module(module)
