"""`PROTEIN_PERFORMER_DEBUG=1`: a command re-raises the error behind its one-line message,
traceback and all. Declared below every layer, so that each layer's command reads it without
importing the flags the inference commands share (`cli_support`, which sits above the model).
"""

from __future__ import annotations

DEBUG_ENV = "PROTEIN_PERFORMER_DEBUG"  # set to 1 to see the traceback behind a one-line error
