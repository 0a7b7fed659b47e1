"""Every table of the notifier's database, in one metadata: `Ledger.create_schema` makes them all."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: One row per mail the SMTP server accepted: an event is never mailed twice to one recipient.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(400), nullable=False),
    sa.Column("delivered_at", sa.DateTime(), nullable=False),
)

#: The last mail of a kind about a subject (a follower and the user they follow), for the cooldown.
last_notices = sa.Table(
    "last_notices",
    metadata,
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("occurred_at", sa.DateTime(), nullable=False),
)

#: Stream replay runs and how far each got, so an interrupted one resumes (`--resume RUN`).
replay_checkpoints = sa.Table(
    "replay_checkpoints",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("options", sa.Text, nullable=False),
    sa.Column("next_offset", sa.BigInteger, nullable=True),
    sa.Column("summary", sa.Text, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
)

#: The cooldown table of notifier 1.0 (follower e-mail only); read once, into `last_notices`.
LEGACY_FOLLOW_NOTICES = "follow_notices"
