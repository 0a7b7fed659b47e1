"""Reading the durations and times operators type: `10s`, `6h`, `2026-11-24T14:00Z`, `90m` (ago).

A bare number is seconds, in a duration and in a time alike (`--since 90` is 90 seconds ago).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(text: str) -> timedelta:
    """`"10s"`, `"1m"`, `"6h"`, `"250ms"`, `"7d"` or a bare number of seconds, as a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 500ms, 10s, 1m, 6h, 7d)")
    return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 date or time (UTC unless it says otherwise), or a duration meaning that long ago."""
    now = now or datetime.now(UTC)
    text = text.strip()
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use e.g. 2026-11-24T14:00Z, 2026-11-24 or 90m for 90 minutes ago)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_age(seconds: float) -> str:
    """A short age for operators: `45s`, `12m`, `3h05m`, `2d4h`."""
    whole = max(0, int(seconds))
    if whole < 120:
        return f"{whole}s"
    if whole < 7200:
        return f"{whole // 60}m"
    if whole < 172800:
        return f"{whole // 3600}h{(whole % 3600) // 60:02d}m"
    return f"{whole // 86400}d{(whole % 86400) // 3600}h"
