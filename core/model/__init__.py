# SPDX-License-Identifier: AGPL-3.0-or-later
"""The method: loading the published weights, reference capture and injection, blending, sampling, and
``FaceAnonPipeline`` (aligned crops in, faces out)."""
