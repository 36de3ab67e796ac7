# SPDX-License-Identifier: AGPL-3.0-or-later
"""Entry point: parse the arguments, run the subcommand, turn failures into exit statuses."""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

from .arguments import build_parser
from .errors import SetupError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Each subcommand's module is imported only when it runs: `redact` never imports torch.
COMMAND_MODULES = {
    "anonymize": "generate",
    "swap": "generate",
    "redact": "redact",
    "download": "download",
    "doctor": "doctor",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``faceanon`` with ``argv`` (default: sys.argv[1:]); returns the exit status.

    Argument errors found by argparse exit with status 2 through SystemExit, as argparse does.
    """
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    logging.getLogger("faceanon").setLevel(logging.ERROR)  # the CLI reports per file itself
    from ..core.errors import FaceAnonError

    command = importlib.import_module(f".{COMMAND_MODULES[args.command]}", __package__)
    try:
        return command.run(args)
    except UsageError as error:
        print(f"faceanon {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (SetupError, FaceAnonError) as error:  # torch or model files missing, a download failed
        print(f"faceanon {args.command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"faceanon {args.command}: interrupted", file=sys.stderr)
        return 130
