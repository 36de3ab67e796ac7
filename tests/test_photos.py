# SPDX-License-Identifier: AGPL-3.0-or-later
"""Faces in the wild through the pipeline: every selected face replaced, nothing else touched."""

import numpy as np
import torch
import pytest
from conftest import YUNET, shared_file
from PIL import Image

from faceanon.core import FaceAnonError, FaceDetector, FaceSelection

FAST = dict(steps=1, guidance=1.0, seed=4)


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(model_path=str(YUNET))


def _photo(name, max_side=800):
    image = Image.open(shared_file("faces", name)).convert("RGB")
    image.thumbnail((max_side, max_side))
    return np.asarray(image)


def test_every_face_of_a_group_photo_is_replaced_and_nothing_else(pipeline, detector):
    photo = _photo("ageitgey__examples_two_people.jpg")
    out, mask, faces = pipeline.anonymize_faces(photo, detector, **FAST)
    assert len(faces) == 2
    assert out.shape == photo.shape and out.dtype == np.uint8 and mask.shape == photo.shape[:2]
    outside = mask == 0
    assert np.array_equal(out[outside], photo[outside])
    for face in faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        core = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))
        assert mask[core].min() > 0.99
        assert np.abs(out[core].astype(int) - photo[core].astype(int)).mean() > 5


def test_batching_does_not_change_faces(pipeline, detector):
    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    one_by_one, _, _ = pipeline.anonymize_faces(photo, detector, batch_size=1, **FAST)
    together, _, _ = pipeline.anonymize_faces(photo, detector, batch_size=8, **FAST)
    assert np.abs(one_by_one.astype(int) - together.astype(int)).max() <= 1


def test_photo_without_faces_comes_back_unchanged(pipeline, detector):
    name = next(line.split(",")[0] for line in shared_file("faces", "manifest.csv").read_text().splitlines()[1:] if line.split(",")[2] == "0")
    photo = _photo(name)
    out, mask, faces = pipeline.anonymize_faces(photo, detector, **FAST)
    assert faces == [] and not mask.any() and np.array_equal(out, photo)


def test_selection_and_mask_limit_the_faces(pipeline, detector):
    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    _, _, largest = pipeline.anonymize_faces(photo, detector, selection=FaceSelection(max_faces=1), **FAST)
    assert len(largest) == 1
    left_half = np.zeros(photo.shape[:2], np.float32)
    left_half[:, : photo.shape[1] // 2] = 1
    out, mask, faces = pipeline.anonymize_faces(photo, detector, mask=left_half, **FAST)
    assert len(faces) == 1 and faces[0].center[0] < photo.shape[1] / 2
    assert np.array_equal(out[:, photo.shape[1] * 3 // 4 :], photo[:, photo.shape[1] * 3 // 4 :])


def test_swap_puts_the_source_face_on_each_target(pipeline, detector):
    source = _photo("ageitgey__examples_obama.jpg")
    target = _photo("ageitgey__examples_two_people.jpg", 600)
    out, mask, faces = pipeline.swap_faces(source, target, detector, **FAST)
    assert len(faces) == 2 and np.array_equal(out[mask == 0], target[mask == 0])
    empty = np.full((200, 200, 3), 127, np.uint8)
    with pytest.raises(FaceAnonError, match="source: no face found"):
        pipeline.swap_faces(empty, target, detector, **FAST)


def test_anonymize_needs_a_positive_degree(pipeline, detector):
    with pytest.raises(FaceAnonError, match="degree"):
        pipeline.anonymize_faces(np.zeros((64, 64, 3), np.uint8), detector, degree=0)


def _face_cores(faces):
    for face in faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        yield (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))


def _assert_no_face_unchanged(photo, out, mask, faces):
    assert faces
    for core in _face_cores(faces):
        assert mask[core].min() > 0.99
        assert np.abs(out[core].astype(int) - photo[core].astype(int)).mean() > 3


@pytest.mark.parametrize("failure", ["sampler_raises", "non_finite", "too_small"])
def test_fail_closed_redacts_every_face_that_cannot_be_generated(pipeline, detector, monkeypatch, failure):
    from faceanon.core import FailClosed

    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    fail_closed = FailClosed(method="pixelate")
    if failure == "sampler_raises":
        monkeypatch.setattr(pipeline, "sample", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("CUDA out of memory")))
    elif failure == "non_finite":
        monkeypatch.setattr(pipeline, "decode", lambda latents: torch.full((latents.shape[0], 3, 512, 512), float("nan")))
    else:
        fail_closed = FailClosed(method="pixelate", min_face_size=10_000)
    out, mask, faces = pipeline.anonymize_faces(photo, detector, fail_closed=fail_closed, **FAST)
    _assert_no_face_unchanged(photo, out, mask, faces)
    assert np.array_equal(out[mask == 0], photo[mask == 0])


def test_without_fail_closed_errors_propagate(pipeline, detector, monkeypatch):
    from faceanon.core import FailClosed

    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    monkeypatch.setattr(pipeline, "sample", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("CUDA out of memory")))
    with pytest.raises(RuntimeError, match="out of memory"):
        pipeline.anonymize_faces(photo, detector, fail_closed=FailClosed(enabled=False), **FAST)


def test_no_face_policy(pipeline, detector):
    blank = np.full((96, 96, 3), 200, np.uint8)
    with pytest.raises(FaceAnonError, match="no face found"):
        pipeline.anonymize_faces(blank, detector, on_no_face="error", **FAST)
    with pytest.raises(FaceAnonError, match="on_no_face"):
        pipeline.anonymize_faces(blank, detector, on_no_face="ignore", **FAST)


@pytest.mark.parametrize("kind", ["grayscale", "rgba", "tiny", "non_square_float"])
def test_unusual_inputs_keep_their_size_and_type(pipeline, detector, kind):
    rgb = _photo("ageitgey__examples_obama.jpg", 400)
    image = {
        "grayscale": np.asarray(Image.fromarray(rgb).convert("L"))[:, :, None],
        "rgba": np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]),
        "tiny": np.asarray(Image.fromarray(rgb).resize((48, 60))),
        "non_square_float": rgb[:, :300].astype(np.float32) / 255,
    }[kind]
    out, mask, faces = pipeline.anonymize_faces(image, detector, **FAST)
    assert out.shape == image.shape and out.dtype == image.dtype and mask.shape == image.shape[:2]
    assert np.array_equal(out[mask == 0], image[mask == 0])
    if kind != "tiny":
        assert len(faces) == 1


class _EveryoneLooksTheSame:
    """A recognizer that sees the same identity everywhere: every output stays 'recognizable'."""

    def embed(self, image, face):
        return np.ones(128, np.float32)


def test_anonymize_faces_with_verification_redacts_what_stays_recognizable(pipeline, detector):
    from faceanon.core import IdentityVerifier, StaticFaces, Verification

    photo = _photo("ageitgey__examples_two_people.jpg", 600)
    found = detector.detect(photo)
    same_places = StaticFaces([f.box for f in found], [f.landmarks for f in found])  # "finds" them in any output
    verifier = IdentityVerifier(recognizer=_EveryoneLooksTheSame(), detector=same_places)
    verification = Verification(verifier, max_retries=1)
    out, mask, faces = pipeline.anonymize_faces(photo, detector, verification=verification, **FAST)
    _assert_no_face_unchanged(photo, out, mask, faces)
    plain, _, _ = pipeline.anonymize_faces(photo, detector, **FAST)
    assert not np.array_equal(out, plain)  # the generated faces were replaced by redactions
