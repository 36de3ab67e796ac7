# SPDX-License-Identifier: AGPL-3.0-or-later
"""Progress over files and over the denoising steps of their faces, on stderr.

Uses tqdm when it is installed (it comes with huggingface_hub); otherwise one line per file.
"""

from __future__ import annotations

import sys

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover - tqdm is a dependency of huggingface_hub
    tqdm = None


class Progress:
    def __init__(self, total_files: int, enabled: bool = True):
        self.total = total_files
        self.count = 0
        self.enabled = enabled
        self.use_tqdm = enabled and tqdm is not None
        self.files = tqdm(total=total_files, unit="file", desc="files", file=sys.stderr) if self.use_tqdm else None
        self.steps = None

    def file_done(self, name: str, status: str) -> None:
        self.count += 1
        if self.files is not None:
            self.files.set_postfix_str(status, refresh=False)
            self.files.update(1)
        elif self.enabled:
            print(f"[{self.count}/{self.total}] {name}: {status}", file=sys.stderr, flush=True)

    def step(self, step: int, total: int, _latents=None) -> None:
        """A pipeline callback: ``step`` of ``total`` denoising steps for the faces now in hand."""
        if not self.use_tqdm:
            return
        if self.steps is None or self.steps.total != total:
            self.end_steps()
            self.steps = tqdm(total=total, unit="step", desc="faces", leave=False, file=sys.stderr)
        self.steps.n = step
        self.steps.refresh()

    def end_steps(self) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None

    def message(self, text: str) -> None:
        """A line that must be seen even with progress bars running (errors, warnings)."""
        if self.files is not None:
            self.files.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        self.end_steps()
        if self.files is not None:
            self.files.close()
