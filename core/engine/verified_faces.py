# SPDX-License-Identifier: AGPL-3.0-or-later
"""Verify that every anonymized face is no longer recognizable; retry the ones that are, then redact.

The verify-and-retry stage of face_stages, with its policy. After the first pass each face's output is compared
with the original by face recognition. A face at or above the threshold is generated again with a new seed and
a stronger degree, up to ``max_retries`` times; if it is still recognizable it is redacted (fail closed), or,
with fail-closed off, the call fails. Then faces whose middle was left uncovered are redacted by their box (see
``face_stages.cover``). Every face is measured again on the final image: one that a redaction left
recognizable (a mild blur often does) is blacked out. Only anonymization is verified: a swap is meant to show
another identity, so comparing it with the original says nothing about privacy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from ..errors import FaceAnonError
from ..model.seeds import offset_seed
from ..options import DEGREE_STEP, MAX_DEGREE, MAX_RETRIES
from .face_report import RECOGNIZABLE, FaceRecord
from .face_settings import FailClosed, Generation, Rendering  # noqa: F401 - Rendering: also here before
from .face_stages import PhotoFaces, compose, cover, generate_records

log = logging.getLogger("faceanon")

# Retry r of face j uses seed + RETRY_SEED_STRIDE * r + j: deterministic, and clear of the first
# attempt's seeds for any photo with fewer faces than this.
RETRY_SEED_STRIDE = 1000

# The redaction for faces the chosen one leaves recognizable: no pixel of the face is left.
LAST_RESORT_REDACTION = "black"


@dataclass
class VerificationPolicy:
    """How anonymized faces are checked, and retried: the one home of the threshold and the retry rule.
    `verifier` is an `IdentityVerifier` (or anything with its `embed`, `compare_faces` and `threshold`);
    `threshold` None uses the verifier's. Retry r of a face uses its first seed + RETRY_SEED_STRIDE * r and
    `degree_step` more degree each time, up to `max_degree`."""

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


Verification = VerificationPolicy  # its name before 0.3


def _measure(policy: VerificationPolicy, photos: Sequence[PhotoFaces], rendering: Rendering) -> None:
    """Compose each photo from its records and measure its faces against their originals."""
    for photo in photos:
        compose(photo, rendering)
        similarities = policy.verifier.compare_faces(
            photo.original, [record.face for record in photo.records], photo.image,
            embeddings=[record.identity for record in photo.records],
        )
        for record, similarity in zip(photo.records, similarities):
            record.similarity_final = similarity


def _start(policy: VerificationPolicy, photos: Sequence[PhotoFaces], rendering: Rendering) -> None:
    """Measure every face once: its identity in the original, then `similarity_initial` and `_final`."""
    for photo in photos:
        for record in photo.records:
            record.identity = policy.verifier.embed(photo.original, record.face)
            record.verified, record.threshold = True, policy.limit
    _measure(policy, photos, rendering)
    for record in _records(photos):
        record.similarity_initial = record.similarity_final


def _records(photos: Sequence[PhotoFaces]) -> list[FaceRecord]:
    return [record for photo in photos for record in photo.records]


def _photos_of(photos: Sequence[PhotoFaces], records: Sequence[FaceRecord]) -> list[PhotoFaces]:
    indices = {record.image_index for record in records}
    return [photo for photo in photos if photo.index in indices]


def verify_and_retry(
    policy: VerificationPolicy,
    photos: Sequence[PhotoFaces],
    pipe,
    generation: Generation,
    fail_closed: FailClosed,
    rendering: Rendering,
    callback=None,
) -> None:
    """Check, retry and redact until no face is recognizable; every photo ends composed and measured.

    The records of `photos` are updated: new seeds, degrees and faces for retries, redactions, similarities."""
    _start(policy, photos, rendering)
    first_seeds = [(record, record.seed) for record in _records(photos)]
    for attempt in range(1, policy.max_retries + 1):
        pending = [(record, seed) for record, seed in first_seeds
                   if record.generated is not None and policy.recognizable(record.similarity_final)]
        if not pending:
            break
        stronger = policy.degree_for(generation.degree, attempt)
        log.info("FaceAnon: %d face(s) still recognizable; retry %d at degree %.2f", len(pending), attempt, stronger)
        for record, seed in pending:
            record.seed, record.degree = retry_seed(seed, attempt), stronger
        retried = [record for record, _ in pending]
        generate_records(pipe, retried, replace(generation, degree=stronger), fail_closed, callback=callback)
        _measure(policy, _photos_of(photos, retried), rendering)

    _redact(policy, photos, fail_closed, rendering)
    _measure(policy, [photo for photo in photos if cover(photo, fail_closed)], rendering)
    _escalate(policy, photos, rendering)


def verify_redactions(policy: VerificationPolicy, photos: Sequence[PhotoFaces], rendering: Rendering) -> None:
    """Measure faces that were redacted on request and black out the ones still recognizable, as
    `verify_and_retry` does for its redactions; every photo ends composed and measured."""
    _start(policy, photos, rendering)
    _escalate(policy, photos, rendering)


def _redact(policy, photos: Sequence[PhotoFaces], fail_closed: FailClosed, rendering: Rendering) -> None:
    """Fail closed on faces still recognizable after every retry: redact them, or raise."""
    still = [record for record in _records(photos)
             if record.generated is not None and policy.recognizable(record.similarity_final)]
    if not still:
        return
    if not fail_closed.enabled:
        worst = max(still, key=lambda record: record.similarity_final)
        raise FaceAnonError(
            f"image {worst.image_index} face {worst.face_index}: still recognizable after {policy.max_retries} "
            f"retries (similarity {worst.similarity_final:.3f} >= {policy.limit:.3f}); turn fail_closed on to "
            "redact such faces"
        )
    log.warning("FaceAnon: %d face(s) still recognizable after %d retries; they are redacted",
                len(still), policy.max_retries)
    for record in still:
        record.generated = None
        record.redact(RECOGNIZABLE, fail_closed.method)
    _measure(policy, _photos_of(photos, still), rendering)


def _escalate(policy, photos: Sequence[PhotoFaces], rendering: Rendering) -> None:
    """Black out redacted faces that are still recognizable (and say so if even that is not enough)."""
    weak = [record for record in _records(photos)
            if record.redaction is not None and record.redaction_method != LAST_RESORT_REDACTION
            and policy.recognizable(record.similarity_final)]
    if not weak:
        return
    log.warning("FaceAnon: %d redacted face(s) still recognizable; they are blacked out", len(weak))
    for record in weak:
        record.redaction_method = LAST_RESORT_REDACTION
    _measure(policy, _photos_of(photos, weak), rendering)
    for record in weak:
        if policy.recognizable(record.similarity_final):
            log.warning("FaceAnon: image %d face %d is still matched (similarity %.3f) after being blacked out: "
                        "hair, outline or context identify it; check it by eye", record.image_index,
                        record.face_index, record.similarity_final)
