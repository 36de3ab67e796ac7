# SPDX-License-Identifier: AGPL-3.0-or-later
"""The counts printed at the end of a run, and the exit status they give."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Summary:
    done_label: str  # what happened to a face: "anonymized", "swapped", "redacted"
    done_action: str = "generated"  # the face action that counts as done; any other is a fallback
    files: int = 0
    processed: int = 0
    without_faces: int = 0
    faces: int = 0  # detected
    not_selected: int = 0  # detected, but left untouched by --min-face or --max-faces
    done: int = 0
    fallback: int = 0
    skipped: int = 0
    errors: int = 0

    def add_faces(self, actions: list[str], not_selected: int = 0) -> None:
        """One processed file: an action per selected face, and how many detected faces were not selected."""
        self.processed += 1
        self.faces += len(actions) + not_selected
        self.not_selected += not_selected
        self.without_faces += not actions and not not_selected
        self.done += sum(action == self.done_action for action in actions)
        self.fallback += sum(action != self.done_action for action in actions)

    def as_dict(self) -> dict:
        return {
            "files": self.files, "processed": self.processed, "without_faces": self.without_faces,
            "faces_found": self.faces, "not_selected": self.not_selected, self.done_label: self.done,
            "redacted_by_fallback": self.fallback, "skipped": self.skipped, "errors": self.errors,
        }

    def text(self) -> str:
        lines = [
            (f"files: {self.files} ({self.processed} processed, {self.skipped} skipped as already done, "
             f"{self.errors} failed)"),
            f"faces found: {self.faces} ({self.without_faces} files without a face)",
            f"{self.done_label}: {self.done}",
        ]
        if self.not_selected:
            lines.append(f"detected, not selected (left unchanged by --min-face / --max-faces): {self.not_selected}")
        if self.done_action != "redacted":
            lines.append(f"redacted by fallback: {self.fallback}")
        elif self.fallback:  # for `redact`, the faces whose crop missed them (see core.faces.coverage)
            lines.append(f"redacted by their box, their crop having missed them: {self.fallback}")
        return "\n".join(lines)

    @property
    def exit_status(self) -> int:
        return 1 if self.errors else 0
