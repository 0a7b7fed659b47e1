"""Telling social what became of the mails the scheduler and the bulk senders sent: the activity
outbox, published on a broker connection of its own and deleted once the broker confirmed it."""

from __future__ import annotations

import json
import threading

import structlog
from microblog_contracts import MailActivity, MailActivityData, MailActivityEntry, MailBounced
from microblog_contracts.envelope import Envelope
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pydantic import BaseModel

from notifier import activity
from notifier.broker import CONNECTION_ERRORS, Brokers, close_quietly, connect
from notifier.errors import BrokerUnavailable
from notifier.ledger.gathering import SqlGathering

log = structlog.get_logger("notifier.scheduler")


class ActivityTeller:
    """Publishes the outbox a batch at a time; a broker that is away is tried again next pass. One
    per process, shared by the threads that fill the outbox (one of them publishes at a time)."""

    def __init__(self, gathering: SqlGathering, brokers: Brokers, batch: int = activity.BATCH) -> None:
        self.gathering = gathering
        self.brokers = brokers
        self.batch = batch
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._lock = threading.Lock()

    def tell_pending(self) -> int:
        """Publish what waits in the outbox; returns how many rows went."""
        with self._lock:
            return self._tell_pending()

    def _tell_pending(self) -> int:
        told = 0
        while rows := self.gathering.pending_activity(self.batch):
            events: list[Envelope[BaseModel]] = []
            entries = [MailActivityEntry.model_validate(json.loads(body)) for _, kind, body in rows if kind == "entry"]
            if entries:
                events.append(MailActivity(data=MailActivityData(entries=entries)))  # type: ignore[arg-type]
            events += [MailBounced.model_validate_json(body) for _, kind, body in rows if kind == "bounce"]  # type: ignore[misc]
            try:
                activity.publish(self._open(), events)
            except BrokerUnavailable as exc:
                log.warning("activity_not_told_yet", error=str(exc), pending=len(rows))
                self._close()
                return told
            self.gathering.told([row_id for row_id, _, _ in rows])
            told += len(rows)
            if len(rows) < self.batch:
                break
        return told

    def _open(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self._close()
            self._connection = connect(self.brokers)
            try:
                self._channel = self._connection.channel()
                self._channel.confirm_delivery()
            except CONNECTION_ERRORS as exc:
                self._close()
                raise BrokerUnavailable(str(exc)) from None
        return self._channel

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._connection is not None:
            close_quietly(self._connection)
        self._connection = self._channel = None
