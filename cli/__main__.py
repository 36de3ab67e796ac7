"""``python -m faceanon.cli``."""

import sys

from .main import main

sys.exit(main())
