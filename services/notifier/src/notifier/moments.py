"""Reading the times operators type: `2026-11-24T14:00`, `2026-11-24`, or `90m` (ago)."""

from __future__ import annotations

from datetime import UTC, datetime

from notifier.settings import parse_duration


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
