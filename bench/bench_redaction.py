# SPDX-License-Identifier: AGPL-3.0-or-later
"""How recognizable faces stay after blur and pixelation, by face size, with and without size scaling.

    python bench/bench_redaction.py [--faces ../shared/faces] [--models ../shared/models] [--max-side 1280]

For every face the detector finds in the photos, the project's verifier (SFace, OpenCV Zoo) compares the
original with the redacted photo (`IdentityVerifier.compare_faces`), and a face at or above the 0.363
threshold counts as still matched. In photos of three faces or more it also checks identification: is
the redacted face, embedded where the original was detected, nearest to its own original among the
photo's faces (chance: 1 in the number of faces)? Printed per method, for the fixed strength of the
512 px crop ("fixed") and for the strength that grows on small faces (`redaction_strength`, "scaled").
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from working_tree import ROOT, import_package

SHARED = os.path.join(os.path.dirname(ROOT), "shared")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
SIZE_BINS = (0, 48, 96, 192, 100_000)  # face box sizes in px
GROUP = 3  # faces a photo needs for the identification check


def load_photos(folder: Path, max_side: int):
    from PIL import Image

    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in PHOTO_SUFFIXES:
            image = Image.open(path)
            image.draft("RGB", (max_side, max_side))
            image = image.convert("RGB")
            image.thumbnail((max_side, max_side))
            yield path.name, np.asarray(image)


def measure(photos, verifier, method: str, scale_with_face: bool):
    """Per face: (photo, box size, similarity to its own original or None, identified in its group or None)."""
    from faceanon.core.faces import redact_faces
    from faceanon.core.verification import cosine_similarity

    rows = []
    for name, image, faces, embeddings in photos:
        redacted, _ = redact_faces(image, faces, method, scale_with_face=scale_with_face)
        similarities = verifier.compare_faces(image, faces, redacted, embeddings=embeddings)
        for index, (face, similarity) in enumerate(zip(faces, similarities)):
            identified = None
            if len(faces) >= GROUP:
                probe = verifier.embed(redacted, face)
                identified = int(np.argmax([cosine_similarity(probe, e) for e in embeddings])) == index
            rows.append((name, face.size, similarity, identified))
    return rows


def report(label: str, rows, threshold: float) -> None:
    sizes = np.array([size for _, size, _, _ in rows])
    matched = np.array([s is not None and s >= threshold for _, _, s, _ in rows])
    print(f"  {label}: still matched {matched.sum()} of {len(rows)} faces")
    for low, high in zip(SIZE_BINS, SIZE_BINS[1:]):
        inside = (sizes >= low) & (sizes < high)
        group = [identified for (_, size, _, identified) in rows if low <= size < high and identified is not None]
        similarities = [s for (_, size, s, _) in rows if low <= size < high and s is not None]
        top = f"{max(similarities):.3f}" if similarities else "-"
        upper = high if high < 100_000 else ""
        print(f"    {low:>3}-{upper:<4} px: {inside.sum():3d} faces, matched {matched[inside].sum():2d}, "
              f"highest similarity {top}, identified in group photos {sum(group)}/{len(group)}")


def main():
    import_package()
    from faceanon.core.faces import FaceDetector
    from faceanon.core.verification import IdentityVerifier, VERIFICATION_SCORE_THRESHOLD

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, default=Path(SHARED, "faces"))
    parser.add_argument("--models", type=Path, default=Path(SHARED, "models"))
    parser.add_argument("--max-side", type=int, default=1280)
    parser.add_argument("--methods", nargs="+", default=["blur", "pixelate"])
    args = parser.parse_args()
    detector_file = args.models / "face_detection_yunet_2023mar_int8bq.onnx"
    detector = FaceDetector(detector_file)
    verifier = IdentityVerifier(args.models / "face_recognition_sface_2021dec_int8bq.onnx",
                                detector=FaceDetector(detector_file, score_threshold=VERIFICATION_SCORE_THRESHOLD))
    photos = []
    for name, image in load_photos(args.faces, args.max_side):
        faces = detector.detect(image)
        if faces:
            photos.append((name, image, faces, [verifier.embed(image, face) for face in faces]))
    print(f"{sum(len(p[2]) for p in photos)} faces in {len(photos)} photos (long side <= {args.max_side} px); "
          f"matched: similarity >= {verifier.threshold}")
    for method in args.methods:
        print(method)
        for label, scaled in (("fixed ", False), ("scaled", True)):
            report(label, measure(photos, verifier, method, scaled), verifier.threshold)


if __name__ == "__main__":
    main()
