"""A gathered mail: the notices of one recipient that go out together, and the Message-ID it keeps
whenever it is sent again (derived from the notices it holds)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from microblog_contracts import Follower, MailProfile

#: How many followers a gathered mail names; the rest are a count.
NAMED = 3


@dataclass(frozen=True, slots=True)
class Batch:
    """One mail about `count` follows of `user_id` (the first NAMED of them by name)."""

    batch_id: str
    user_id: int
    kind: str
    event_ids: tuple[str, ...]
    named: tuple[Follower, ...]
    count: int
    latest_at: datetime

    @property
    def single(self) -> bool:
        """A batch of one follow goes as the ordinary follower e-mail, keyed by its event."""
        return self.count == 1

    @property
    def key(self) -> str:
        """The ledger's event id for this mail: the follow's own, or the batch's."""
        return self.event_ids[0] if self.single else self.batch_id


def batch_id_for(user_id: int, kind: str, event_ids: list[str]) -> str:
    """Stable for the same notices: a crash between the SMTP acceptance and the ledger commit
    repeats the same Message-ID, which mail clients fold."""
    digest = hashlib.sha256(f"{user_id}:{kind}:".encode() + ",".join(sorted(event_ids)).encode())
    return "batch-" + digest.hexdigest()[:32]


def gathered_context(profile: MailProfile, batch: Batch) -> dict[str, object]:
    """What the templates of a gathered mail see."""
    return {"user": profile, "followers": list(batch.named), "count": batch.count,
            "others": batch.count - len(batch.named), "latest_at": batch.latest_at}
