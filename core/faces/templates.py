# SPDX-License-Identifier: AGPL-3.0-or-later
"""Landmark templates shared by detection and alignment.

All five-point arrays follow YuNet's order (see `LANDMARK_NAMES`). "Right" and "left" are the
subject's own sides, so for a frontal face the right eye is the one on the image's left.
"""

import numpy as np

LANDMARK_NAMES = ("right_eye", "left_eye", "nose_tip", "right_mouth_corner", "left_mouth_corner")

# DeepFaceLab's `landmarks_2D_new`: the mean positions of 33 iBUG-68 points (brows 17-26, nose 27-35,
# eyes 36-47, mouth corners 48 and 54) in a unit square. The official in-the-wild pipeline aligns to it.
DFL_TEMPLATE_33 = np.array(
    [
        [0.000213256, 0.106454], [0.0752622, 0.038915], [0.18113, 0.0187482],
        [0.29077, 0.0344891], [0.393397, 0.0773906], [0.586856, 0.0773906],
        [0.689483, 0.0344891], [0.799124, 0.0187482], [0.904991, 0.038915],
        [0.98004, 0.106454],
        [0.490127, 0.203352], [0.490127, 0.307009], [0.490127, 0.409805],
        [0.490127, 0.515625], [0.36688, 0.587326], [0.426036, 0.609345],
        [0.490127, 0.628106], [0.554217, 0.609345], [0.613373, 0.587326],
        [0.121737, 0.216423], [0.187122, 0.178758], [0.265825, 0.179852],
        [0.334606, 0.231733], [0.260918, 0.245099], [0.182743, 0.244077],
        [0.645647, 0.231733], [0.714428, 0.179852], [0.793132, 0.178758],
        [0.858516, 0.216423], [0.79751, 0.244077], [0.719335, 0.245099],
        [0.254149, 0.780233], [0.726104, 0.780233],
    ],
    dtype=np.float64,
)


def _dfl_five_points() -> np.ndarray:
    # Rows of DFL_TEMPLATE_33 by iBUG index: 36-41 -> 19-24, 42-47 -> 25-30, 30 -> 13, 48 -> 31, 54 -> 32.
    t = DFL_TEMPLATE_33
    return np.stack([t[19:25].mean(axis=0), t[25:31].mean(axis=0), t[13], t[31], t[32]])


# The five YuNet points of the DeepFaceLab template, in its unit square.
DFL_TEMPLATE_5 = _dfl_five_points()

# Median YuNet landmark positions relative to YuNet's own box, as fractions of box width and height
# (measured on ~170 real faces, mirrored to be symmetric). Used to guess landmarks for a bare box.
BOX_RELATIVE_LANDMARKS = np.array(
    [[0.267, 0.365], [0.733, 0.365], [0.500, 0.562], [0.295, 0.718], [0.705, 0.718]],
    dtype=np.float64,
)
