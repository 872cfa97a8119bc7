"""The one user-error type (a problem with the command line, a config or an input file) and
the one way a parser reports a usage error.

Every command ends on it the same way (`cli_support.run`): `prog: error: message`, one line on
stderr, exit status 2, no traceback. It sits below every layer so that the launch checks of
`training/` and `family/` raise the same type as the inference commands.
"""

from __future__ import annotations

import sys
from typing import NoReturn


class UserError(ValueError):
    """Bad input, not a bug: reported as one line naming the flag or file at fault. A
    ValueError, so callers that already treat bad values as ValueError keep doing so."""


class OneLineParserErrors:
    """Mixin for an argparse or jsonargparse parser: a usage error is one line on stderr,
    `prog: error: message`, exit status 2, like every other user error (instead of the usage
    block and a message wrapped over lines)."""

    prog: str

    def error(self, message: str, *_: object) -> NoReturn:
        print(f"{self.prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
        raise SystemExit(2)
