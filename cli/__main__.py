# SPDX-License-Identifier: AGPL-3.0-or-later
"""``python -m faceanon.cli``."""

import sys

from .main import main

sys.exit(main())
