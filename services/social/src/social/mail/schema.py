"""The mail history table in plain SQLAlchemy: the relay's inbox writes it without Flask; the web
app maps :class:`social.mail.history.MailHistory` onto a copy in its own metadata."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from social.dbtypes import NAMING_CONVENTION, UTCDateTime

#: How long a user's settings page shows a mail; the inbox purges older rows.
HISTORY_KEPT = timedelta(days=30)

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

#: What became of each mail, one row per `MailActivityEntry.id`, the latest word on it.
mail_history = sa.Table(
    "mail_history",
    metadata,
    sa.Column("id", sa.String(300), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Column("merged_into_at", UTCDateTime, nullable=True),
    # `social announce status` counts an announcement's mails by outcome and reason from this alone.
    sa.Index("ix_mail_history_event_id", "event_id", "kind", "outcome", "reason"),
)
