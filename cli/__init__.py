# SPDX-License-Identifier: AGPL-3.0-or-later
"""The ``faceanon`` command line: anonymize, swap or redact faces in image files, fetch the models,
and check the set-up. Run ``faceanon --help`` (or ``python -m faceanon.cli --help``)."""

from .main import main

__all__ = ["main"]
