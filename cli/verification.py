# SPDX-License-Identifier: AGPL-3.0-or-later
"""The identity check that ``--verify`` turns on (SFace, from the models folder)."""

from __future__ import annotations


def build_verification(args, root):
    from ..core.verification import IdentityVerifier
    from ..core.verified_faces import Verification

    verifier = IdentityVerifier(models_dir=root, threshold=args.similarity_threshold)
    # `redact` has no --max-retries: nothing it does can be tried again, only blacked out.
    return Verification(verifier, max_retries=getattr(args, "max_retries", 0))
