"""The outbox table in plain SQLAlchemy: what the relay and replays read, without Flask, and the
check that it is there.

The web app maps its `OutboxEvent` model onto a copy of this table in its own metadata (see
:mod:`social.outbox.models`); migrations keep the two the same.
"""

from __future__ import annotations

import sqlalchemy as sa
from microblog_plumbing.databases import database_error
from sqlalchemy.exc import SQLAlchemyError

from social.dbtypes import NAMING_CONVENTION, UTCDateTime

#: PostgreSQL channel the relay LISTENs on; a NOTIFY is delivered when the writer commits.
NOTIFY_CHANNEL = "social_outbox"

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

outbox_events = sa.Table(
    "outbox_events",
    metadata,
    sa.Column("position", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(128), nullable=False, unique=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False, index=True),
    sa.Column("published_at", UTCDateTime, nullable=True),
    sa.Column("publish_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(500), nullable=True),
    #: NULL while the body is whole; `address` once its addresses are dropped (older than
    #: OUTBOX_RETENTION), `erased` once its data is dropped (about a deleted user): see
    #: :mod:`social.outbox.retention`.
    sa.Column("redaction", sa.String(16), nullable=True),
    # The relay's query: pending rows in order. Partial, so it stays as small as the backlog.
    sa.Index(
        "ix_outbox_events_pending",
        "position",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    ),
)


#: Which users each event is about, so that a deleted user's events can be found and erased.
outbox_subjects = sa.Table(
    "outbox_subjects",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, index=True),
)


class OutboxMissing(Exception):
    """The database has no outbox table yet, or cannot be read."""


def check_outbox(engine: sa.Engine, *also: str) -> None:
    """Fail early, and clearly, when the schema has not been created (or lacks the tables `also`
    names: an older schema than this code's)."""
    try:
        tables = set(sa.inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        raise OutboxMissing(f"cannot read the database: {database_error(exc)}") from None
    if outbox_events.name not in tables:
        raise OutboxMissing("the database has no outbox table: run `social db upgrade` first")
    for name in also:
        if name not in tables:
            raise OutboxMissing(f"the database has no {name} table: run `social db upgrade` first")
