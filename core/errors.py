# SPDX-License-Identifier: AGPL-3.0-or-later
"""Exceptions raised by FaceAnon with messages meant for the person running it."""


class FaceAnonError(ValueError):
    """Bad input or configuration; the message says which input and what is expected."""


class ModelFileError(FaceAnonError):
    """A model file is missing, corrupt or in a refused format; the message names it and its source."""


class ModelFileMissingError(ModelFileError, FileNotFoundError):
    """Model files are missing or unusable. The message is built for error dialogs that show the first
    line best: a short headline, then one line per file (where it goes and direct download links), then
    what to do. A front end swaps the last line for its own (``with_hint``)."""

    def __init__(self, headline: str, file_lines=(), hint: str = "") -> None:
        self.headline, self.file_lines, self.hint = headline, tuple(file_lines), hint
        super().__init__("\n".join([headline, *self.file_lines, *([hint] if hint else [])]))

    def with_hint(self, hint: str) -> "ModelFileMissingError":
        return type(self)(self.headline, self.file_lines, hint)

    def __reduce__(self):
        return type(self), (self.headline, self.file_lines, self.hint)


class ModelDownloadError(ModelFileMissingError):
    """A requested download failed: no source could deliver a model file."""
