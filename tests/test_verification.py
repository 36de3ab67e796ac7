# SPDX-License-Identifier: AGPL-3.0-or-later
"""Identity verification: SFace separates people, and recognizable outputs are retried, then redacted."""

import csv
import json
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import CENTERFACE, SFACE, YUNET, shared_file
from PIL import Image

from faceanon.core import FaceAnonError, FaceDetector, FailClosed, IdentityVerifier, ModelFileError, Verification
from faceanon.core import face_stages, photos
from faceanon.core.face_report import REPORT_KEYS, report_json
from faceanon.core.faces import REDACTION_METHODS, Face, redact_crop, redact_faces, select_faces
from faceanon.core.redacted_faces import redact_photo
from faceanon.core.verification import cosine_similarity
from faceanon.core.faces.image_io import to_float32

GROUP = "ageitgey__examples_two_people.jpg"
RUN = dict(degree=1.25, guidance=1.0, steps=1, seed=7, scheduler="ddpm")
MAX_PHOTOS_PER_PERSON = 6  # keeps the AUC test at a few seconds on two cores


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(model_path=str(YUNET))


@pytest.fixture(scope="module")
def verifier():
    return IdentityVerifier(SFACE, detector=FaceDetector(model_path=str(YUNET), score_threshold=0.5))


def _photo(name, max_side=640):
    image = Image.open(shared_file("faces", name))
    image.draft("RGB", (max_side, max_side))
    image = image.convert("RGB")
    image.thumbnail((max_side, max_side))
    return np.asarray(image)


def _auc(positives, negatives):
    """Probability that a same-person pair scores above a different-person pair (Mann-Whitney U)."""
    scores = np.concatenate([positives, negatives])
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)
    n_pos, n_neg = len(positives), len(negatives)
    return (ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def test_sface_separates_same_and_different_people(verifier):
    rows = [row for row in csv.DictReader(open(shared_file("faces", "manifest.csv"))) if row["n_faces"] == "1"]
    by_person = defaultdict(list)
    for row in rows:
        by_person[row["identity"]].append(row["file"])
    # one quick detector pass per photo: the AUC measures the recognizer, not the detector's settings
    quick = FaceDetector(model_path=str(YUNET), long_sides=(640,), refine_landmarks=False)
    people, embeddings = [], []
    for person, names in sorted(by_person.items()):
        for name in names[:MAX_PHOTOS_PER_PERSON] if len(names) >= 2 else []:
            image = _photo(name)
            faces = select_faces(quick.detect(image), order="largest", max_faces=1)
            assert faces, f"no face found in {name}"
            people.append(person)
            embeddings.append(verifier.embed(image, faces[0]))
    assert len(set(people)) >= 10 and embeddings[0].shape == (128,)
    unit = np.stack(embeddings) / np.linalg.norm(embeddings, axis=1, keepdims=True)
    pairs = np.triu_indices(len(unit), 1)
    similarities = (unit @ unit.T)[pairs]
    same = (np.array(people)[:, None] == np.array(people)[None])[pairs]
    auc = _auc(similarities[same], similarities[~same])
    print(f"SFace AUC {auc:.4f} on {same.sum()} same / {(~same).sum()} different pairs of {len(unit)} photos")
    assert auc >= 0.95
    recognized = similarities >= verifier.threshold
    assert recognized[same].mean() > 0.9 and recognized[~same].mean() < 0.05


def test_similarity_and_compare(verifier):
    obama, obama2, lennon = (_photo(n, 480) for n in ("ageitgey__examples_obama.jpg", "ageitgey__examples_obama2.jpg",
                                                     "cmusatyala__images_examples_lennon-1.jpg"))
    assert verifier.similarity(obama, obama2) >= verifier.threshold > verifier.similarity(obama, lennon)
    assert verifier.similarity(obama, np.full((200, 200, 3), 128, np.uint8)) is None
    face = verifier.detector.detect(obama)[0]
    assert verifier.compare(obama, face, obama) > 0.99
    assert verifier.compare(obama, face, np.full_like(obama, 128)) is None  # no face in the output


class ShiftedRedetection:
    """A detector for outputs that finds each face where it is, but with its landmarks a face-width aside."""

    def __init__(self, faces):
        self.faces = faces

    def detect(self, image):
        return [Face(box=f.box, score=f.score, landmarks=f.landmarks + [f.width, 0]) for f in self.faces]


def test_compare_measures_at_the_original_landmarks_not_only_the_redetected_ones(verifier):
    obama = _photo("ageitgey__examples_obama.jpg", 480)
    face = verifier.detector.detect(obama)[0]
    misled = IdentityVerifier(SFACE, detector=ShiftedRedetection([face]))
    # The re-detected landmarks alone put the crop beside the face: the untouched face would pass as changed.
    assert cosine_similarity(misled.embed(obama, face), misled.embed(obama, misled.detector.detect(obama)[0])) < 0.363
    assert misled.compare(obama, face, obama) > 0.99


@pytest.mark.parametrize("method", ["blur", "pixelate"])
def test_small_faces_of_a_group_photo_stop_being_matched_and_identified(detector, verifier, method):
    """In this photo every face is under 60 px: with the strength of large faces each blurred or pixelated face
    stayed nearest to its own original, and most were still matched."""
    image = _photo("davisking__examples_faces_2007_007763.jpg", 640)
    faces = detector.detect(image)
    assert len(faces) >= 5 and max(face.size for face in faces) < 64
    embeddings = [verifier.embed(image, face) for face in faces]

    def still_matched_and_identified(scale_with_face):
        redacted, _ = redact_faces(image, faces, method, scale_with_face=scale_with_face)
        similarities = verifier.compare_faces(image, faces, redacted, embeddings=embeddings)
        nearest = [np.argmax([cosine_similarity(verifier.embed(redacted, face), e) for e in embeddings])
                   for face in faces]
        return sum(map(verifier.is_recognizable, similarities)), sum(n == i for i, n in enumerate(nearest))

    fixed_matched, fixed_identified = still_matched_and_identified(False)
    matched, identified = still_matched_and_identified(True)
    assert matched <= 1 and matched < fixed_matched
    assert identified < len(faces) and identified < fixed_identified


def test_missing_recognizer_says_where_to_put_it(tmp_path):
    with pytest.raises(ModelFileError, match="face_recognition_sface_2021dec.onnx") as error:
        IdentityVerifier(models_dir=tmp_path)
    assert str(tmp_path / "recognizers") in str(error.value)


# --- the retry / redact loop, with stand-in "anonymizers" instead of the diffusion model ---


class FakeGeneration:
    """Stands in for face_stages.generate_faces: records each call and transforms the aligned crops."""

    def __init__(self, transform):
        self.transform, self.calls = transform, []

    def __call__(self, pipe, crops, seeds, generation, **kwargs):
        self.calls.append((list(seeds), round(generation.degree, 6)))
        return [self.transform(to_float32(crop)) for crop in crops]


def _anonymize(monkeypatch, detector, transform, verification, **kwargs):
    fake = FakeGeneration(transform)
    monkeypatch.setattr(face_stages, "generate_faces", fake)
    image = _photo(GROUP, 600)
    results = photos.process_photos(None, [image], detector, verification=verification, **{**RUN, **kwargs})
    return image, results, fake.calls


def _face_cores(report):
    for entry in report:
        x0, y0, x1, y1 = (int(round(v)) for v in entry["box"])
        yield (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4))


def test_identity_anonymizer_is_retried_then_redacted(monkeypatch, detector, verifier):
    image, results, calls = _anonymize(monkeypatch, detector, lambda crop: crop, Verification(verifier))
    assert calls == [([7, 8], 1.25), ([1007, 1008], 1.35), ([2007, 2008], 1.45)]
    report = results[0].report
    assert [e["action"] for e in report] == ["redacted", "redacted"]
    for entry in report:
        assert entry["attempts"] == 3 and entry["final_degree"] == pytest.approx(1.45)
        assert entry["similarity_initial"] > 0.9 and entry["verified"]
        assert entry["redaction_method"] in REDACTION_METHODS
        assert not verifier.is_recognizable(entry["similarity_final"])
    assert results[0].actions == ["redacted (still recognizable)"] * 2 and results[0].crops == [None, None]
    for core in _face_cores(report):
        assert results[0].mask[core].min() > 0.99
        assert np.abs(results[0].image[core].astype(int) - image[core].astype(int)).mean() > 3


def test_pixelating_anonymizer_passes(monkeypatch, detector, verifier):
    pixelate = lambda crop: redact_crop(crop, "pixelate", pixel_size=64)  # noqa: E731
    _, results, calls = _anonymize(monkeypatch, detector, pixelate, Verification(verifier))
    assert len(calls) == 1
    for entry in results[0].report:
        assert entry["action"] == "anonymized" and entry["attempts"] == 1 and entry["final_seed"] in (7, 8)
        assert entry["redaction_method"] is None and not verifier.is_recognizable(entry["similarity_final"])
        assert entry["similarity_initial"] == entry["similarity_final"]


def test_no_face_in_output_counts_as_not_recognizable(monkeypatch, detector, verifier):
    _, results, calls = _anonymize(monkeypatch, detector, np.zeros_like, Verification(verifier))
    assert len(calls) == 1
    assert all(e["no_face_in_output"] and e["similarity_final"] is None for e in results[0].report)
    assert {e["action"] for e in results[0].report} == {"anonymized"}


def test_photos_without_faces_pass_through_verification(monkeypatch, detector, verifier):
    monkeypatch.setattr(face_stages, "generate_faces", FakeGeneration(np.zeros_like))
    blank = np.full((120, 160, 3), 90, np.uint8)
    results = photos.process_photos(None, [blank, _photo(GROUP, 600)], detector, verification=Verification(verifier),
                                    **RUN)
    assert np.array_equal(results[0].image, blank) and results[0].report == []
    assert [e["image_index"] for e in results[1].report] == [1, 1]


def test_report_is_complete_and_deterministic(monkeypatch, detector, verifier):
    pixelate = lambda crop: redact_crop(crop, "pixelate", pixel_size=64)  # noqa: E731
    runs = [report_json(_anonymize(monkeypatch, detector, pixelate, Verification(verifier))[1]) for _ in range(2)]
    assert runs[0] == runs[1]
    entries = json.loads(runs[0])
    assert len(entries) == 2 and [(e["image_index"], e["face_index"]) for e in entries] == [(0, 0), (0, 1)]
    assert all(set(e) == set(REPORT_KEYS) for e in entries)
    assert entries[0]["threshold"] == pytest.approx(0.363)


class ScriptedVerifier:
    """A verifier that calls every face recognizable unless its box centre is black in the output."""

    threshold = 0.5

    def embed(self, image, face):
        return np.zeros(4, np.float32)

    def compare_faces(self, original, faces, output, embeddings=None):
        values = [to_float32(output[int(f.center[1]), int(f.center[0])]).max() for f in faces]
        return [None if value < 0.02 else 0.9 for value in values]


def test_weak_redaction_is_escalated_and_degree_is_capped(monkeypatch, detector):
    verification = Verification(ScriptedVerifier(), max_retries=3, degree_step=0.2, max_degree=1.5)
    _, results, calls = _anonymize(monkeypatch, detector, lambda crop: crop, verification,
                                   fail_closed=FailClosed(method="blur"))
    assert [degree for _, degree in calls] == [1.25, 1.45, 1.5, 1.5]
    assert calls[-1][0] == [3007, 3008]
    for entry in results[0].report:
        assert entry["action"] == "redacted" and entry["redaction_method"] == "black"
        assert entry["no_face_in_output"] and entry["threshold"] == 0.5


def test_redaction_still_recognizable_is_blacked_out(detector):
    image = _photo(GROUP, 600)
    faces = detector.detect(image)
    result = redact_photo(image, faces, "blur", verification=Verification(ScriptedVerifier()))
    expected = [("redacted", "black", True)] * 2
    assert [(e["action"], e["redaction_method"], e["verified"]) for e in result.report] == expected
    assert all(e["similarity_initial"] == 0.9 and e["similarity_final"] is None for e in result.report)
    for core in _face_cores(result.report):
        assert result.image[core].max() == 0
    unverified = redact_photo(image, faces, "blur")
    assert [(e["redaction_method"], e["verified"]) for e in unverified.report] == [("blur", False)] * 2


def test_without_fail_closed_a_recognizable_face_is_an_error(monkeypatch, detector):
    with pytest.raises(FaceAnonError, match="still recognizable after 1 retries"):
        _anonymize(monkeypatch, detector, lambda crop: crop, Verification(ScriptedVerifier(), max_retries=1),
                   fail_closed=FailClosed(enabled=False))


def test_swaps_are_not_verified(monkeypatch, detector):
    source = _photo("ageitgey__examples_obama.jpg", 400)
    _, results, calls = _anonymize(monkeypatch, detector, lambda crop: crop, Verification(ScriptedVerifier()),
                                   degree=0.0, source=source)
    assert len(calls) == 1
    report = results[0].report
    assert [(e["action"], e["verified"], e["similarity_final"]) for e in report] == [("swapped", False, None)] * 2


def test_verification_settings_are_checked():
    with pytest.raises(FaceAnonError, match="max_retries"):
        Verification(ScriptedVerifier(), max_retries=-1)
    with pytest.raises(FaceAnonError, match="similarity_threshold"):
        Verification(ScriptedVerifier(), threshold=1.5)


# --- nodes ---


@pytest.fixture
def models_root(tmp_path, monkeypatch):
    for folder, model in (("detectors", YUNET), ("detectors", CENTERFACE), ("recognizers", SFACE)):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / model.name).symlink_to(model)
    monkeypatch.setenv("FACEANON_MODELS", str(tmp_path))
    return tmp_path


def test_verifier_loader_and_anonymize_node_report(monkeypatch, models_root):
    from faceanon.nodes.detector_loader import FaceAnonDetectorLoader
    from faceanon.nodes.photo_nodes import FaceAnonAnonymizeFacesInImage
    from faceanon.nodes.verifier_loader import FaceAnonVerifierLoader

    verification = FaceAnonVerifierLoader().load(0.3, 1, 0.1, 1.5, False)[0]
    assert verification.limit == 0.3 and verification.max_retries == 1
    fake = FakeGeneration(lambda crop: crop)
    monkeypatch.setattr(face_stages, "generate_faces", fake)
    photo = torch.from_numpy(_photo(GROUP, 600).astype(np.float32) / 255)[None]
    outputs = FaceAnonAnonymizeFacesInImage().anonymize(
        SimpleNamespace(device=torch.device("cpu")), FaceAnonDetectorLoader().load(0.9, False)[0], photo, 1.25,
        seed=7, steps=1, guidance=1.0, scheduler="ddpm", framing="whole_face", min_size=0, max_faces=0,
        order="left_to_right", indices="", feather=0.06, grow=0.0, color_match=False, batch_size=4, fail_closed=True,
        fallback="pixelate", on_no_face="passthrough", verifier=verification,
    )
    report = json.loads(outputs[5])
    assert len(fake.calls) == 2 and [e["action"] for e in report] == ["redacted", "redacted"]
    assert all(e["threshold"] == 0.3 and e["attempts"] == 2 for e in report)


def test_redact_node_blacks_out_faces_the_verifier_still_matches(models_root):
    from faceanon.nodes.detector_loader import FaceAnonDetectorLoader
    from faceanon.nodes.face_nodes import FaceAnonRedactFaces

    photo = torch.from_numpy(_photo(GROUP, 600).astype(np.float32) / 255)[None]
    settings = dict(framing="whole_face", min_size=0, max_faces=0, order="left_to_right", indices="",
                    on_no_face="passthrough")
    detector = FaceAnonDetectorLoader().load(0.9, False)[0]
    plain = json.loads(FaceAnonRedactFaces().redact(detector, photo, "blur", **settings)[3])
    assert [(e["action"], e["redaction_method"], e["verified"]) for e in plain] == [("redacted", "blur", False)] * 2
    image, mask, count, report = FaceAnonRedactFaces().redact(detector, photo, "blur", **settings,
                                                              verifier=Verification(ScriptedVerifier()))
    assert count == 2
    assert [(e["redaction_method"], e["verified"]) for e in json.loads(report)] == [("black", True)] * 2


def test_verifier_loader_missing_recognizer(tmp_path, monkeypatch):
    from faceanon.nodes.verifier_loader import FaceAnonVerifierLoader

    monkeypatch.setenv("FACEANON_MODELS", str(tmp_path))
    (tmp_path / "detectors").mkdir()
    (tmp_path / "detectors" / YUNET.name).symlink_to(YUNET)
    with pytest.raises(ModelFileError, match="face_recognition_sface") as error:
        FaceAnonVerifierLoader().load(0.363, 2, 0.1, 1.5, False)
    assert str(tmp_path / "recognizers") in str(error.value)
