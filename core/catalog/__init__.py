# SPDX-License-Identifier: AGPL-3.0-or-later
"""The model-file catalog: every file FaceAnon uses, where it is looked for, and fetching it on request."""
