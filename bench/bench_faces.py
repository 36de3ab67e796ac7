# SPDX-License-Identifier: AGPL-3.0-or-later
"""In-the-wild costs on the CPU: detection, paste-back, and the per-image overhead outside the UNet.

    python bench/bench_faces.py --detector PATH/face_detection_yunet_2023mar.onnx [--photo PATH] [--threads 1]

Prints the detection time at 512x512 and 1920x1080 for each detection mode (target: under 60 ms at 1080p on
one core, which the fast mode meets), the
paste-back time per face, and, with the tiny test model, how much of an in-the-wild run is spent outside
the UNet.
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import torch

from working_tree import ROOT, import_package


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    import_package()
    from faceanon.core import FaceAnonPipeline, FaceDetector
    from faceanon.core.faces import align_faces, paste_faces

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detector", required=True)
    parser.add_argument("--photo", default=os.path.join(ROOT, "..", "shared", "faces", "hanweikung__my_dataset_test_friends.jpg"))
    parser.add_argument("--model", default=os.path.join(ROOT, "tests", "fixtures", "golden", "model"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    torch.set_num_threads(args.threads)
    photo = cv2.cvtColor(cv2.imread(args.photo), cv2.COLOR_BGR2RGB)
    print(f"photo {os.path.basename(args.photo)} {photo.shape[1]}x{photo.shape[0]}, threads {args.threads}")
    for mode, refine in (("fast", None), ("accurate", False), ("accurate", None)):
        for width, height in ((512, 512), (1920, 1080)):
            detector = FaceDetector(args.detector, mode=mode, refine_landmarks=refine)
            image = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
            start = time.perf_counter()
            faces = len(detector.detect(image))
            first = time.perf_counter() - start
            seconds = best_of(lambda image=image, detector=detector: detector.detect(image), args.repeats)
            print(f"detect {width}x{height}, mode {mode}, passes at long sides {detector.long_sides}, landmark "
                  f"refinement {'on' if detector.refine_landmarks else 'off'}: {seconds * 1000:.1f} ms "
                  f"(first image of this size {first * 1000:.1f} ms), {faces} faces")
    detector = FaceDetector(args.detector)
    image = cv2.resize(photo, (1920, 1080), interpolation=cv2.INTER_AREA)
    aligned = align_faces(image, detector.detect(image))
    crops = [face.image for face in aligned]
    seconds = best_of(lambda: paste_faces(image, aligned, crops), args.repeats)
    print(f"paste-back: {seconds / len(aligned) * 1000:.1f} ms per face ({len(aligned)} faces at 1920x1080)")
    seconds = best_of(lambda: align_faces(image, detector.detect(image)), args.repeats)
    print(f"detect + align: {seconds * 1000:.1f} ms per 1080p image")

    pipe = FaceAnonPipeline.from_pretrained(args.model, device="cpu", dtype="fp32")
    unet_seconds = []
    unet = pipe.models.unet
    unet.register_forward_pre_hook(lambda *a: unet_seconds.append(-time.perf_counter()))
    unet.register_forward_hook(lambda *a: unet_seconds.append(time.perf_counter()))
    start = time.perf_counter()
    _, _, faces = pipe.anonymize_faces(image, detector, steps=4, batch_size=8)
    total = time.perf_counter() - start
    in_unet = sum(unet_seconds)
    print(f"tiny model, {len(faces)} faces, 4 steps: {total:.2f} s in all, {in_unet:.2f} s in the UNet, "
          f"{(total - in_unet) / 1:.2f} s per image outside it ({(total - in_unet) / max(1, len(faces)) * 1000:.0f} ms per face)")


if __name__ == "__main__":
    main()
