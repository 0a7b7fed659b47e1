"""Filling a migrated social database fast: users with API tokens (no password hashing, which
costs ~50 ms a user), and pending outbox events for the relay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.events import EncodedEvent
from bench.services import SECRET_KEY

#: A valid password hash nobody can log in with.
UNUSABLE_HASH = "scrypt:32768:8:1$nologin$" + "0" * 128


@dataclass(frozen=True)
class Client:
    """A user of the API: nickname, e-mail and a bearer token."""

    nickname: str
    email: str
    token: str


def seed_clients(database_url: str, followers: int, targets: int) -> tuple[list[Client], list[Client]]:
    """`followers` users `f0..` with tokens and `targets` users `t0..` to follow, committed; every
    address confirmed, as a notifier mails only confirmed addresses."""
    from social.app import create_app
    from social.extensions import db
    from social.models import ApiToken, User
    from social.settings import SocialSettings

    app = create_app(SocialSettings(database_url=database_url, secret_key=SECRET_KEY))
    confirmed = datetime.now(UTC)
    with app.app_context():
        people = [User(nickname=f"f{n}", email=f"f{n}@example.com", password_hash=UNUSABLE_HASH,
                       email_confirmed_at=confirmed) for n in range(followers)]
        people += [User(nickname=f"t{n}", email=f"t{n}@example.com", password_hash=UNUSABLE_HASH,
                        email_confirmed_at=confirmed) for n in range(targets)]
        db.session.add_all(people)
        db.session.flush()
        tokens = [ApiToken.issue(user)[1] for user in people]
        db.session.commit()
        clients = [Client(u.nickname, u.email, t) for u, t in zip(people, tokens, strict=True)]
        db.session.remove()
        db.engine.dispose()
    return clients[:followers], clients[followers:]


def insert_outbox(database_url: str, events: Sequence[EncodedEvent]) -> None:
    """Pending outbox rows for `events`, as a follow writes them, in one transaction."""
    import sqlalchemy as sa
    from social.outbox.models import OutboxEvent

    engine = sa.create_engine(database_url)
    rows = [{"event_id": e.event_id, "event_type": "user.followed", "body": e.body.decode(), "occurred_at": e.at,
             "publish_attempts": 0} for e in events]
    with engine.begin() as conn:
        conn.execute(sa.insert(OutboxEvent.__table__), rows)
    engine.dispose()


def outbox_pairs(database_url: str) -> dict[str, tuple[str, str]]:
    """Each outbox event's id -> (follower nickname, recipient e-mail), read from its body."""
    import json

    import sqlalchemy as sa
    from social.outbox.models import OutboxEvent

    table = OutboxEvent.__table__
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.event_id, table.c.body)).all()
    engine.dispose()
    pairs = {}
    for event_id, body in rows:
        data = json.loads(body)["data"]
        pairs[event_id] = (data["follower"]["nickname"], data["followed"]["email"].lower())
    return pairs
