"""Times as the CLI and the HTTP operations accept them: ``30m``, ``1h``, ``2d``, ``45s`` ago, or ISO-8601."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(value: str) -> str:
    """``value`` as an ISO-8601 UTC timestamp with milliseconds (the form records use); ``ValueError`` if it is
    neither a duration ago nor an ISO-8601 time (a time without a zone is taken as UTC)."""
    match = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if match:
        when = datetime.now(UTC) - timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    else:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("use a duration such as 30m, 1h, 2d, or an ISO-8601 time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
