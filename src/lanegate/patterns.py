"""What can be known of a regular expression before it runs: the most characters one of its matches can span.

Read with Python's own parser (``re._parser``). RE2's syntax for what bounds a match — literals, classes,
groups, alternation, ``?``, ``*``, ``+``, ``{n,m}`` — is Python's, so the same reading serves the PII rules
(Python patterns) and DLP patterns (RE2); what that parser does not read (``\\pL``, ``\\z``, a flag group
after the start...) has no known bound.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

UNBOUNDED = 1 << 16  # a width from here on is taken as no bound (the parser's own is about four billion)


def widest(pattern: str, flags: int = 0) -> int | None:
    """The most characters a match of ``pattern`` spans (lookarounds read more but span nothing); ``None``:
    unbounded, or not known."""
    try:
        parser: Any = importlib.import_module("re._parser")
        with warnings.catch_warnings():  # "possible nested set" for RE2's [[:alpha:]], read as wider: no harm
            warnings.simplefilter("ignore")
            width = int(parser.parse(pattern, flags).getwidth()[1])
    except Exception:  # syntax this parser does not read, or a Python without it: no bound known
        return None
    return width if width < UNBOUNDED else None
