# SPDX-License-Identifier: AGPL-3.0-or-later
"""Verify that every anonymized face is no longer recognizable; retry the ones that are, then redact.

After the first pass each face's output is compared with the original by face recognition. A face
at or above the threshold is generated again with a new seed and a stronger degree, up to
``max_retries`` times; if it is still recognizable it is redacted (fail closed), or, with fail-closed
off, the call fails. Before the last measure the caller's coverage check (``cover``) may redact faces
whose middle was left uncovered. Every face is measured again on the final image: one that a redaction
left recognizable (a mild blur often does) is blacked out. Only anonymization is verified: a swap is meant
to show another identity, so comparing it with the original says nothing about privacy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .errors import FaceAnonError
from .face_report import GENERATION_FAILED, RECOGNIZABLE, FaceRecord
from .face_settings import FailClosed
from .faces import Face
from .options import DEGREE_STEP, MAX_DEGREE, MAX_RETRIES
from .seeds import offset_seed


log = logging.getLogger("faceanon")

# Retry r of face j uses seed + RETRY_SEED_STRIDE * r + j: deterministic, and clear of the first
# attempt's seeds for any photo with fewer faces than this.
RETRY_SEED_STRIDE = 1000

# The redaction for faces the chosen one leaves recognizable: no pixel of the face is left.
LAST_RESORT_REDACTION = "black"

Key = tuple[int, int]  # (image index, face index)


@dataclass
class Verification:
    """How anonymized faces are checked. `verifier` is an `IdentityVerifier` (or anything with its
    `embed`, `compare_faces` and `threshold`); `threshold` None uses the verifier's."""

    verifier: object
    threshold: Optional[float] = None
    max_retries: int = MAX_RETRIES.default
    degree_step: float = DEGREE_STEP.default
    max_degree: float = MAX_DEGREE.default

    def __post_init__(self):
        if isinstance(self.max_retries, bool) or int(self.max_retries) != self.max_retries or self.max_retries < 0:
            raise FaceAnonError(f"max_retries: expected a whole number >= 0, got {self.max_retries!r}")
        if not self.degree_step >= 0:
            raise FaceAnonError(f"degree_step: expected a number >= 0, got {self.degree_step!r}")
        if not self.max_degree > 0:
            raise FaceAnonError(f"max_degree: expected a number > 0, got {self.max_degree!r}")
        if self.threshold is not None and not -1 <= self.threshold <= 1:
            raise FaceAnonError(f"similarity_threshold: expected a cosine similarity in -1..1, got {self.threshold!r}")

    @property
    def limit(self) -> float:
        return float(self.threshold if self.threshold is not None else self.verifier.threshold)

    def recognizable(self, similarity: Optional[float]) -> bool:
        return similarity is not None and similarity >= self.limit

    def degree_for(self, degree: float, attempt: int) -> float:
        """The degree of retry `attempt`: `degree_step` stronger each time, capped at `max_degree`
        (but never weaker than the first attempt's)."""
        return max(degree, min(self.max_degree, degree + attempt * self.degree_step))


def retry_seed(first_seed: int, attempt: int) -> int:
    return offset_seed(first_seed, RETRY_SEED_STRIDE * attempt)


class _Outputs:
    """The current output image of each photo, recomposited and re-measured as faces change.

    Made, every face is measured once: `similarity_initial` and `similarity_final` of every record."""

    def __init__(self, verification, originals, faces, records, compose):
        """`faces`: per photo, its `Face`s."""
        self.verifier, self.originals, self.faces, self.records = verification.verifier, originals, faces, records
        self.compose = compose
        self.embeddings = [[self.verifier.embed(image, face) for face in image_faces]
                           for image, image_faces in zip(originals, self.faces)]
        self.images: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for record in records.values():
            record.verified, record.threshold = True, verification.limit
        for index in range(len(originals)):
            self.update(index)
        for record in records.values():
            record.similarity_initial = record.similarity_final

    def update(self, index: int) -> None:
        """Composite photo `index` from the current crops and measure each of its faces."""
        self.images[index] = self.compose(index)
        output = self.images[index][0]
        similarities = self.verifier.compare_faces(
            self.originals[index], self.faces[index], output, embeddings=self.embeddings[index]
        )
        for face_index, similarity in enumerate(similarities):
            self.records[index, face_index].similarity_final = similarity

    def results(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [self.images[index] for index in range(len(self.originals))]


def verify_and_retry(
    verification: Verification,
    originals: Sequence[np.ndarray],
    faces: Sequence[Sequence],
    records: dict[Key, FaceRecord],
    crops: dict[Key, Optional[np.ndarray]],
    *,
    degree: float,
    regenerate: Callable[[list[Key], list[int], float], list[Optional[np.ndarray]]],
    compose: Callable[[int], tuple[np.ndarray, np.ndarray]],
    fail_closed: "FailClosed",
    cover: Optional[Callable[[int, np.ndarray], bool]] = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Check, retry and redact until no face is recognizable; returns (image, mask) per photo.

    `crops` (face -> generated crop; None: redact it) and `records` are updated in place;
    `regenerate(keys, seeds, degree)` generates those faces again, `compose(i)` pastes photo i, and
    `cover(i, mask)` marks the faces of photo i that `mask` leaves uncovered for redaction (True if any).
    """
    outputs = _Outputs(verification, originals, [[a.face for a in fs] for fs in faces], records, compose)

    def recognizable() -> list[Key]:
        return [key for key, crop in crops.items()
                if crop is not None and verification.recognizable(records[key].similarity_final)]

    first_seeds = {key: record.seed for key, record in records.items()}
    for attempt in range(1, verification.max_retries + 1):
        pending = recognizable()
        if not pending:
            break
        stronger = verification.degree_for(degree, attempt)
        seeds = [retry_seed(first_seeds[key], attempt) for key in pending]
        log.info("FaceAnon: %d face(s) still recognizable; retry %d at degree %.2f", len(pending), attempt, stronger)
        for key, seed, crop in zip(pending, seeds, regenerate(pending, seeds, stronger)):
            crops[key] = crop
            record = records[key]
            record.seed, record.degree, record.attempts = seed, stronger, record.attempts + 1
            if crop is None:
                record.redact(GENERATION_FAILED, fail_closed.method)
        _update(outputs, pending)

    _redact(verification, recognizable(), records, crops, outputs, fail_closed)
    if cover is not None:
        _update(outputs, [(index, 0) for index in range(len(originals)) if cover(index, outputs.images[index][1])])
    _escalate(verification, records, outputs)
    return outputs.results()


def verify_redactions(
    verification: Verification,
    originals: Sequence[np.ndarray],
    faces: Sequence[Sequence[Face]],
    records: dict[Key, FaceRecord],
    compose: Callable[[int], tuple[np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Measure faces that were redacted on request and black out the ones still recognizable, as
    `verify_and_retry` does for its redactions; returns (image, mask) per photo."""
    outputs = _Outputs(verification, originals, faces, records, compose)
    _escalate(verification, records, outputs)
    return outputs.results()


def _redact(verification, still: list[Key], records, crops, outputs: _Outputs, fail_closed: "FailClosed") -> None:
    """Fail closed on faces still recognizable after every retry: redact them, or raise."""
    if not still:
        return
    if not fail_closed.enabled:
        worst = max(still, key=lambda key: records[key].similarity_final)
        raise FaceAnonError(
            f"image {worst[0]} face {worst[1]}: still recognizable after {verification.max_retries} retries "
            f"(similarity {records[worst].similarity_final:.3f} >= {verification.limit:.3f}); turn fail_closed "
            "on to redact such faces"
        )
    log.warning("FaceAnon: %d face(s) still recognizable after %d retries; they are redacted",
                len(still), verification.max_retries)
    for key in still:
        crops[key] = None
        records[key].redact(RECOGNIZABLE, fail_closed.method)
    _update(outputs, still)


def _update(outputs: _Outputs, keys: Sequence[Key]) -> None:
    for index in sorted({i for i, _ in keys}):
        outputs.update(index)


def _escalate(verification: Verification, records: dict[Key, FaceRecord], outputs: _Outputs) -> None:
    """Black out redacted faces that are still recognizable (and say so if even that is not enough)."""
    weak = [key for key, record in records.items()
            if record.redaction is not None and record.redaction_method != LAST_RESORT_REDACTION
            and verification.recognizable(record.similarity_final)]
    if not weak:
        return
    log.warning("FaceAnon: %d redacted face(s) still recognizable; they are blacked out", len(weak))
    for key in weak:
        records[key].redaction_method = LAST_RESORT_REDACTION
    _update(outputs, weak)
    for key in weak:
        if verification.recognizable(records[key].similarity_final):
            log.warning("FaceAnon: image %d face %d is still matched (similarity %.3f) after being blacked out: "
                        "hair, outline or context identify it; check it by eye", *key, records[key].similarity_final)
