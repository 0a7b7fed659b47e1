"""Faults on the whole path, social outbox to SMTP: broker connections cut while follows flow,
the relay killed in the middle of publishing."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest

from tests.support.amqp import assert_nothing_came_back, wait_until_drained
from tests.support.follows import follow_by_id, seed_users
from tests.support.proxy import TcpProxy
from tests.support.smtp import SmtpServer
from tests.support.social_app import build_app
from tests.support.system import System
from tests.support.tally import event_ids, tally
from tests.support.wait import wait_for

#: Thousands of follows with faults injected: part of `make test`, left out of the quick loop.
pytestmark = pytest.mark.slow

QUEUE = "notifier.user-followed"


def outbox_event_ids(app: object) -> list[str]:
    from social.extensions import db
    from social.outbox.models import OutboxEvent

    with app.app_context():  # type: ignore[attr-defined]
        return list(db.session.scalars(db.select(OutboxEvent.event_id)))


def pending_count(app: object) -> int:
    from social.extensions import db
    from social.outbox.models import OutboxEvent

    with app.app_context():  # type: ignore[attr-defined]
        return int(db.session.scalar(db.select(db.func.count()).where(OutboxEvent.published_at.is_(None))) or 0)


def test_broker_connections_cut_while_a_thousand_follows_flow_lose_and_double_nothing(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path, broker_proxy: TcpProxy
) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    proxied = broker_proxy.url(amqp_url)
    system = System(database_url=database_url, amqp_url=amqp_url, relay_amqp_url=proxied,
                    notifier_amqp_url=proxied, smtp=smtp_server, workdir=tmp_path).start()
    try:
        app = build_app(database_url, migrate=False)
        ids = seed_users(app, 1001)

        def follow_everyone() -> None:
            for follower in ids[1:]:
                follow_by_id(app, follower, ids[0])

        follows = threading.Thread(target=follow_everyone)
        follows.start()
        for threshold in (150, 400, 700):  # three "broker restarts" while the follows flow
            wait_for(lambda t=threshold: len(smtp_server.received) >= t, timeout=60, what=f"{threshold} mails")
            broker_proxy.refuse()
            wait_for(lambda: broker_proxy.connections == 0, what="every connection cut")
            broker_proxy.accept()
        follows.join(120)
        wait_for(lambda: len(event_ids(smtp_server.received)) >= 1000, timeout=120, what="every follow mailed")
        wait_until_drained(amqp_url, QUEUE)
    finally:
        codes = system.stop()
    assert_nothing_came_back(amqp_url, QUEUE)
    result = tally(f"broker connections cut {broker_proxy.cuts}x during 1000 follows",
                   outbox_event_ids(app), smtp_server.received)
    assert result.expected == 1000
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    assert codes == {"web": 0, "relay": 0, "notifier": 0}


def test_a_relay_killed_mid_publish_and_restarted_loses_no_event_and_mails_none_twice(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    system = System(database_url=database_url, amqp_url=amqp_url, smtp=smtp_server, workdir=tmp_path,
                    relay_env={"RELAY_BATCH_SIZE": "5"}).start()
    try:
        app = build_app(database_url, migrate=False)
        ids = seed_users(app, 1001)
        system.relay.signal(signal.SIGSTOP)  # let a backlog build, so the kill lands mid-batch
        for follower in ids[1:]:
            follow_by_id(app, follower, ids[0])
        system.relay.signal(signal.SIGCONT)
        wait_for(lambda: len(smtp_server.received) >= 100, timeout=60, what="the relay to be publishing")
        system.relay.signal(signal.SIGKILL)
        assert system.relay.proc is not None
        system.relay.proc.wait(10)
        left = pending_count(app)
        assert left > 0, "the relay had finished before the kill: the test proved nothing"
        killed_at = 1000 - left
        system.relay.start()
        wait_for(lambda: len(event_ids(smtp_server.received)) >= 1000, timeout=120, what="every follow mailed")
        wait_until_drained(amqp_url, QUEUE)
    finally:
        system.stop()
    assert_nothing_came_back(amqp_url, QUEUE)
    result = tally(f"relay SIGKILLed with {1000 - killed_at} of 1000 events unpublished", outbox_event_ids(app),
                   smtp_server.received)
    assert result.lost == 0, result
    assert result.duplicated == 0, result
