# SPDX-License-Identifier: AGPL-3.0-or-later
"""Errors that end a command before any file is processed."""


class UsageError(Exception):
    """Bad arguments: the command exits with status 2 and the message says which argument."""


class SetupError(Exception):
    """Something to install or fetch first (torch, model files): the command exits with status 1."""
