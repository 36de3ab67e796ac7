# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which folders are searched for model files. The only place that reads $FACEANON_MODELS.

Front ends pass their own folders in (ComfyUI's ``face_anon`` paths); core never asks ComfyUI.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Optional, Union

MODELS_ENV = "FACEANON_MODELS"
PathLike = Union[str, os.PathLike]


def env_models_dir() -> Optional[Path]:
    """$FACEANON_MODELS, read when asked (never at import), or None when unset."""
    value = os.environ.get(MODELS_ENV)
    return Path(value).expanduser() if value else None


def default_models_dir() -> Path:
    """$FACEANON_MODELS, else ~/.cache/faceanon."""
    return env_models_dir() or Path.home() / ".cache" / "faceanon"


def search_roots(models_dir: Optional[PathLike] = None, extra_roots: Iterable[PathLike] = ()) -> list[Path]:
    """The models roots to search, best first; downloads go to the first.

    An explicit ``models_dir`` (``--models``, a ``models_dir=`` argument) is the only root, as a choice the
    user made. Otherwise ``extra_roots`` (ComfyUI's ``face_anon`` folders) then $FACEANON_MODELS, and
    ~/.cache/faceanon when there is neither.
    """
    if models_dir is not None:
        return [Path(models_dir).expanduser()]
    roots = [Path(root).expanduser() for root in extra_roots]
    env = env_models_dir()
    if env is not None:
        roots.append(env)
    unique = list(dict.fromkeys(roots))
    return unique or [default_models_dir()]
