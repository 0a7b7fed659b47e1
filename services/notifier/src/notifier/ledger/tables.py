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
    # The daily cap counts an address's notifications of the last 24 hours.
    sa.Index("ix_deliveries_recipient_delivered_at", "recipient", "delivered_at"),
)

#: The latest mail profile of each user social told of (`user.profile_changed`): what a mail
#: waiting in a queue or a retry goes by when it is sent.
recipients = sa.Table(
    "recipients",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
)

#: Addresses the SMTP server refused for good: no notification goes to them until the user
#: confirms the address again (a confirmation after `suppressed_at` lifts it).
suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    sa.Column("suppressed_at", sa.DateTime(), nullable=False),
    sa.Column("reply", sa.String(500), nullable=False),
    sa.Column("event_id", sa.String(128), nullable=False),
)

#: Every mail deliberately not sent, with its reason (`notifier skipped list`).
skips = sa.Table(
    "skips",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=True),
    sa.Column("recipient_domain", sa.String(255), nullable=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("detail", sa.String(500), nullable=True),
    sa.Column("skipped_at", sa.DateTime(), nullable=False),
    sa.Index("ix_skips_skipped_at", "skipped_at"),
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

#: Users who deleted their account: no mail goes to or about them again (a replayed or retried event
#: included). Only the id is kept.
deleted_users = sa.Table(
    "deleted_users",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("deleted_at", sa.DateTime(), nullable=False),
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

#: Follow notices waiting to be sent after a grace, in a batch, a digest or after quiet hours.
#: `state`: waiting, batched (composed into a mail not yet sent), sent, merged (sent inside a
#: gathered mail), cancelled (the follow was undone), skipped (consent, cooldown).
notices = sa.Table(
    "notices",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("follower_id", sa.BigInteger, nullable=False),
    sa.Column("follower", sa.Text, nullable=False),
    sa.Column("followed_at", sa.DateTime(), nullable=False),
    sa.Column("due_at", sa.DateTime(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    #: Moved into the daily digest by the daily cap.
    sa.Column("digest", sa.Boolean, nullable=False, default=False),
    sa.Column("batch_id", sa.String(64), nullable=True),
    sa.Index("ix_notices_user_id_state_due_at", "user_id", "state", "due_at"),
    sa.Index("ix_notices_batch_id", "batch_id"),
)

#: When each recipient's waiting notices are next due, their batching window, and which replica
#: holds them (a lease: a replica that dies lets go of its recipients when it runs out).
schedule = sa.Table(
    "schedule",
    metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("next_due_at", sa.DateTime(), nullable=True),
    sa.Column("window_until", sa.DateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.DateTime(), nullable=True),
    sa.Index("ix_schedule_next_due_at", "next_due_at"),
)

#: Gathered mails, composed before they are sent: sent again after a crash, with the same Message-ID.
batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # composed, sent, skipped
    sa.Column("notice_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.Index("ix_batches_user_id_state", "user_id", "state"),
)

#: The latest undoing of each follow: a notice of a follow older than it is not sent.
unfollows = sa.Table(
    "unfollows",
    metadata,
    sa.Column("follower_id", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("unfollowed_at", sa.DateTime(), nullable=False),
)

#: What the scheduler has to tell social (`mail.activity` entries, `mail.bounced` events), published
#: and then deleted once the broker has them.
activity_outbox = sa.Table(
    "activity_outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # entry, bounce
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
)

#: Announcements social asked for (`announcement.created`): their texts and attachments' description,
#: and whether an operator called them off.
announcements = sa.Table(
    "announcements",
    metadata,
    sa.Column("announcement_id", sa.String(128), primary_key=True),
    sa.Column("created", sa.Text, nullable=True),  # the event's data, as JSON (None: only a cancel came yet)
    sa.Column("chunks", sa.Integer, nullable=False),  # how many attachment chunks make it whole
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.Column("cancelled_at", sa.DateTime(), nullable=True),
)

#: Attachment bytes, as they came in `announcement.attachment` events (they may come before the
#: announcement itself: nothing is sent until every chunk is here).
announcement_chunks = sa.Table(
    "announcement_chunks",
    metadata,
    sa.Column("announcement_id", sa.String(128), primary_key=True),
    sa.Column("attachment", sa.Integer, primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

#: Each recipient of an announcement and what became of their mail. `state`: pending, sent,
#: skipped, failed; `reason` says why for the last two. A sender holds a few at a time (a lease).
announcement_recipients = sa.Table(
    "announcement_recipients",
    metadata,
    sa.Column("announcement_id", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.BigInteger, primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", sa.DateTime(), nullable=True),
    sa.Column("done_at", sa.DateTime(), nullable=True),
    sa.Index("ix_announcement_recipients_state", "state", "announcement_id", "user_id"),
)

#: Shared rate limits (MAIL_RATE_LIMIT over every replica): the time the next send may start
#: (a GCRA "theoretical arrival time"), in seconds since the epoch.
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("next_at", sa.Float, nullable=False),
)
