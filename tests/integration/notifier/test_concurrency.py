"""SMTP concurrency that finds itself: a real notifier against a server that answers 421 to
sessions above a number, on a real RabbitMQ vhost and a real ledger file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.amqp import message_count, publish_many, wait_until_drained
from tests.support.events import user_followed
from tests.support.notifier import metric_total, notifier_settings, running_notifier
from tests.support.smtp import SmtpServer
from tests.support.wait import wait_for

QUEUE = "notifier.user-followed"
DLQ = "notifier.user-followed.dead"
#: The server's limit: above the notifier's start (4 sessions), far under its default ceiling (64).
MOST_SESSIONS = 6
MAILS = 400


@pytest.fixture
def crowded_server() -> Iterator[SmtpServer]:
    server = SmtpServer(max_sessions=MOST_SESSIONS)
    server.handler.delay = 0.02  # a round of sends takes a moment: work waits, the limit grows
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_concurrency_settles_under_a_server_that_refuses_sessions_above_n_without_dead_letters(
    amqp_url: str, crowded_server: SmtpServer, tmp_path: Path
) -> None:
    events = [user_followed(email=f"reader{i}@example.com") for i in range(MAILS)]
    settings = notifier_settings(amqp_url, crowded_server, tmp_path, mail_max_connections=64)
    with running_notifier(settings) as notifier:
        publish_many(amqp_url, [(e.id, e.to_json_bytes()) for e in events])
        crowded_server.wait_for_mails(MAILS, timeout=120)
        wait_until_drained(amqp_url, QUEUE)
        wait_for(lambda: metric_total(notifier, "notifier_mails_sent_total") == MAILS, what="every mail counted")
        settled_limit = notifier.consumer.concurrency.limit
    handler = crowded_server.handler
    refused_while = [delivered for delivered, refused in handler.arrivals if refused]
    # It grew past the server's limit (so the test saw it shrink), and every 421 came in the first
    # half of the drain: after that, it asked for no more sessions than the server takes.
    assert refused_while, "the notifier never asked for more sessions than the server takes"
    assert max(refused_while) < MAILS // 2
    assert handler.peak_sessions <= MOST_SESSIONS
    assert 1 <= settled_limit <= MOST_SESSIONS
    # Every mail delivered once, nothing dead-lettered (running_notifier checked every message was acked).
    ids = sorted(str(m.message["Message-ID"]) for m in crowded_server.received)
    assert ids == sorted(f"<{e.id}.follower_email@example.com>" for e in events)
    assert message_count(amqp_url, DLQ) == 0
    assert metric_total(notifier, "notifier_mails_dead_lettered_total") == 0
