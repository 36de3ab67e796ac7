# SPDX-License-Identifier: AGPL-3.0-or-later
"""``faceanon download``: fetch the model files that are missing."""

from __future__ import annotations

import sys

from ..core.catalog.model_files import GROUPS
from .model_paths import fetch_missing, models_root


def run(args) -> int:
    groups = GROUPS if args.what == "all" else (args.what,)
    root = models_root(args.models)
    fetch_missing(root, groups, announce=lambda text: print(text, file=sys.stderr))
    print(f"Model files are in {root}")
    return 0
