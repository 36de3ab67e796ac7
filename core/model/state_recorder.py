# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a ReferenceNet pass records: the states its consumed self-attentions see, and the early exit after the last.

Kept apart from the routing (reference_routing.py) and the processors that call it (attention_processors.py), so
that neither imports the other.
"""

from __future__ import annotations

import torch


class CaptureComplete(Exception):
    """Raised from inside a ReferenceNet once its last consumed state is recorded: the rest is not needed."""


class StateRecorder:
    """Collects one ReferenceNet pass's consumed states."""

    def __init__(self, keys: list[str]):
        self.keys = list(keys)
        self.states: dict[str, torch.Tensor] = {}

    def record(self, key: str, hidden_states: torch.Tensor) -> None:
        self.states[key] = hidden_states
        if len(self.states) == len(self.keys):
            raise CaptureComplete

    def take(self) -> dict[str, torch.Tensor]:
        states, self.states = self.states, {}
        missing = [k for k in self.keys if k not in states]
        if missing:
            raise RuntimeError(f"ReferenceNet pass ended without producing states {missing}")
        return {k: states[k] for k in self.keys}
