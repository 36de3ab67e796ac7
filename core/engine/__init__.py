# SPDX-License-Identifier: AGPL-3.0-or-later
"""The in-the-wild engine: per-face records through explicit stages, verification, reports and private saving."""
