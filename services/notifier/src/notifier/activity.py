"""Telling social what became of each mail: `mail.activity` (sent, skipped with its reason, failed)
and `mail.bounced` (an address refused for good), on the notifier's own exchange.

Published on the consumer's confirming channel after the ledger committed a batch of results and
before their acks: a crash in between redelivers the messages, and their second pass (folded as
duplicates) tells the same entries again, with the same ids, which social keeps once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pika
import pika.exceptions
from microblog_contracts import (
    NOTIFIER_EXCHANGE,
    MailActivity,
    MailActivityData,
    MailActivityEntry,
    MailBounced,
    MailBouncedData,
    MailOutcome,
)
from microblog_contracts.envelope import Envelope
from pydantic import BaseModel

from notifier.broker import CONNECTION_ERRORS, PublishChannel, translate
from notifier.pipeline import Outcome, Result

#: Entries per `mail.activity` event (the contract's bound).
BATCH = 500


def entry_for(result: Result) -> MailActivityEntry | None:
    """What social should keep of `result`: None for what is not a mail's final outcome."""
    if result.mail_kind is None or result.event_id is None:
        return None
    if result.skip is not None and result.skip.value == "user_deleted":
        return None  # social forgot them: nothing to tell
    if result.outcome in (Outcome.SENT, Outcome.DUPLICATE):
        outcome, reason = MailOutcome.SENT, None
    elif result.outcome is Outcome.SKIPPED and result.skip is not None:
        outcome, reason = MailOutcome.SKIPPED, result.skip.value
    elif result.outcome is Outcome.DEAD and result.failure is not None:
        outcome, reason = MailOutcome.FAILED, result.failure.kind
    else:
        return None
    # Built by the notifier from values it checked: no second validation on the hot path.
    return MailActivityEntry.model_construct(
        id=f"{result.event_id}.{result.mail_kind}.{result.user_id or result.recipient_domain}",
        user_id=result.user_id, kind=result.mail_kind, event_id=result.event_id, outcome=outcome,
        reason=reason, at=result.settled_at or datetime.now(UTC),
    )


def bounce_for(result: Result) -> MailBounced | None:
    """The `mail.bounced` event a permanent refusal of the recipient calls for."""
    failure = result.failure
    if result.outcome is not Outcome.DEAD or failure is None or failure.kind != "recipient_refused":
        return None
    if result.address is None or result.event_id is None:
        return None
    return MailBounced(data=MailBouncedData(
        user_id=result.user_id, address=result.address, reply=failure.detail[:500], event_id=result.event_id,
        bounced_at=result.settled_at or datetime.now(UTC)))


def activity_events(results: Iterable[Result]) -> list[Envelope[BaseModel]]:
    """The events a batch of results calls for: its activity, in events of up to BATCH entries,
    and a bounce per refused address."""
    results = list(results)
    entries = [e for e in map(entry_for, results) if e is not None]
    events: list[Envelope[BaseModel]] = [
        MailActivity(data=MailActivityData.model_construct(entries=entries[start:start + BATCH]))  # type: ignore[misc]
        for start in range(0, len(entries), BATCH)
    ]
    events += [b for b in map(bounce_for, results) if b is not None]  # type: ignore[misc]
    return events


def publish(channel: PublishChannel, events: Iterable[Envelope[BaseModel]]) -> None:
    """Publish `events` to the notifier's exchange on a confirming channel; raises BrokerUnavailable."""
    for event in events:
        properties = pika.BasicProperties(
            content_type="application/cloudevents+json", message_id=event.id, delivery_mode=2, type=event.type,
            app_id="notifier", timestamp=int(event.time.timestamp()))
        try:
            channel.basic_publish(NOTIFIER_EXCHANGE, event.type, event.to_json_bytes(), properties)
        except (pika.exceptions.NackError, pika.exceptions.UnroutableError) as exc:
            raise translate(exc) from None
        except CONNECTION_ERRORS as exc:
            raise translate(exc) from None
