# SPDX-License-Identifier: AGPL-3.0-or-later
"""Exact speed-ups, each replacing a plain formulation by one that gives the same numbers up to float rounding
(tested against it in fp32 and bf16)."""
