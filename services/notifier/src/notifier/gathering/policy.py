"""Whether a follow notice goes now or waits, and until when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from microblog_contracts import NoticeMode

from notifier.gathering.timing import first_due, mode_of, quiet_until
from notifier.kinds import Mail


@dataclass(frozen=True)
class GatherPolicy:
    """The deployment's settings for gathering follow notices."""

    grace: timedelta
    window: timedelta
    default_mode: NoticeMode
    #: How long a replica holds a recipient before another may take them over.
    lease: timedelta

    def due(self, mail: Mail, now: datetime) -> datetime | None:
        """When `mail` may go if it must wait, or None to send it now: a notice of a follow goes at
        once only with no grace, in `immediately` mode, outside the recipient's quiet hours."""
        profile = mail.profile
        if profile is None:  # an event from before profiles: the old way, at once
            return None
        mode = mode_of(profile, self.default_mode)
        if mode is NoticeMode.IMMEDIATELY and not self.grace and quiet_until(now, profile) is None:
            return None
        return first_due(mode, mail.occurred_at, self.grace, profile)
