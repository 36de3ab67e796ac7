# SPDX-License-Identifier: AGPL-3.0-or-later
"""Exceptions raised by FaceAnon with messages meant for the person running it."""


class FaceAnonError(ValueError):
    """Bad input or configuration; the message says which input and what is expected."""


class ModelFileError(FaceAnonError):
    """A model file is missing, corrupt or in a refused format; the message names it and its source."""
