# SPDX-License-Identifier: AGPL-3.0-or-later
"""Matching a generated face's colour and brightness to the face it replaces."""

from __future__ import annotations

import cv2
import numpy as np

# Bounds on the per-channel contrast change, so a flat region cannot blow up the transfer.
_MIN_STD_RATIO, _MAX_STD_RATIO = 0.5, 2.0


def match_color(generated: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Shift `generated` so that its per-channel mean and standard deviation in CIE Lab, weighted by
    `weights` (HxW, 0..1), equal those of `reference`. Both images are float32 RGB in [0, 1]."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if total <= 0:
        return generated
    gen_lab = cv2.cvtColor(np.ascontiguousarray(generated, dtype=np.float32), cv2.COLOR_RGB2Lab)
    ref_lab = cv2.cvtColor(np.ascontiguousarray(reference, dtype=np.float32), cv2.COLOR_RGB2Lab)
    gen_mean, gen_std = _weighted_stats(gen_lab, w, total)
    ref_mean, ref_std = _weighted_stats(ref_lab, w, total)
    ratio = np.clip(ref_std / np.maximum(gen_std, 1e-6), _MIN_STD_RATIO, _MAX_STD_RATIO)
    matched = (gen_lab - gen_mean) * ratio + ref_mean
    rgb = cv2.cvtColor(matched.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb, 0.0, 1.0)


def _weighted_stats(lab: np.ndarray, w: np.ndarray, total: float) -> tuple[np.ndarray, np.ndarray]:
    flat = lab.reshape(-1, 3).astype(np.float64)
    weights = w.reshape(-1, 1)
    mean = (flat * weights).sum(axis=0) / total
    variance = (((flat - mean) ** 2) * weights).sum(axis=0) / total
    return mean, np.sqrt(variance)
