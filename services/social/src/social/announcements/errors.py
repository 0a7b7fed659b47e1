"""Why an announcement cannot be made, found or cancelled: one small hierarchy the CLI reads."""

from __future__ import annotations

from datetime import datetime


class AnnouncementError(Exception):
    """Something the operator asked of announcements that cannot be done; the message says why."""


class DraftRefused(AnnouncementError):
    """What the operator wrote cannot be announced (a file, a limit, a locale); nothing was written."""


class NoRecipients(AnnouncementError):
    """Nobody has a confirmed address with announcements on; nothing was written."""

    def __init__(self, left_out: int) -> None:
        super().__init__("no user has a confirmed address with announcements on")
        #: Users who would have had it but whose profile no mail can carry.
        self.left_out = left_out


class UnknownAnnouncement(AnnouncementError, LookupError):
    def __init__(self, announcement_id: str) -> None:
        super().__init__(f"no announcement has the id {announcement_id!r}")


class AlreadyCancelled(AnnouncementError):
    def __init__(self, announcement_id: str, cancelled_at: datetime | None) -> None:
        at = f" at {cancelled_at:%Y-%m-%d %H:%M:%S %Z}" if cancelled_at else ""
        super().__init__(f"announcement {announcement_id} was cancelled already{at}")
        self.cancelled_at = cancelled_at
