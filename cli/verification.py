# SPDX-License-Identifier: AGPL-3.0-or-later
"""The identity check that ``--verify`` turns on (SFace, from the models folder)."""

from __future__ import annotations


def build_verification(args, root):
    from ..core.engine.verification import IdentityVerifier
    from ..core.engine.verified_faces import VerificationPolicy

    # The policy holds the threshold; the verifier only measures. `redact` has no --max-retries: nothing it
    # does can be tried again, only blacked out.
    return VerificationPolicy(IdentityVerifier(models_dir=root), threshold=args.similarity_threshold,
                              max_retries=getattr(args, "max_retries", 0))
