"""The relay's inbox on a real RabbitMQ vhost and real databases: what the notifier publishes to
`notifier.events` reaches social's database; what social cannot read waits in the dead letters."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from microblog_contracts import (
    NOTIFIER_EXCHANGE,
    MailActivity,
    MailActivityData,
    MailActivityEntry,
    MailBounced,
    MailBouncedData,
    MailOutcome,
)
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.history import MailHistory
from social.models import User
from social.relay.bootstrap import build_relay
from social.relay.service import RelayService
from social.settings import SocialSettings
from sqlalchemy import select

from tests.support.amqp import channel, message_count, publish, wait_for_messages
from tests.support.proxy import TcpProxy
from tests.support.social_app import build_app, make_user
from tests.support.wait import wait_for

INBOX, DEAD = "social.mail-activity", "social.mail-activity.dead"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'social.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = build_app(database_url)
    with app.app_context():
        yield app


@contextmanager
def running_relay(database_url: str, amqp_url: str) -> Iterator[RelayService]:
    """A relay on a thread of its own (without its probes), its inbox consuming; stopped at the end."""
    relay = build_relay(SocialSettings(database_url=database_url, amqp_url=amqp_url), serve_http=False)  # type: ignore[call-arg]
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: relay.readiness()["inbox"].ok, timeout=30, what="the inbox consuming")
        yield relay
    finally:
        relay.stop()
        thread.join(30)
        assert not thread.is_alive(), "the relay did not stop"


def notifier_publishes(amqp_url: str, event: MailActivity | MailBounced) -> None:
    publish(amqp_url, event.to_json_bytes(), message_id=event.id, routing_key=event.type, exchange=NOTIFIER_EXCHANGE)


def activity(user: User, *, outcome: MailOutcome = MailOutcome.SKIPPED,
             reason: str | None = "unconfirmed") -> MailActivity:
    return MailActivity(data=MailActivityData(entries=[MailActivityEntry(
        id=f"evt-1/follower_email/{user.id}", user_id=user.id, kind="follower_email", event_id="evt-1",
        outcome=outcome, reason=reason, at=utcnow())]))


def history() -> list[tuple[str, str | None]]:
    db.session.expire_all()
    return [(row.outcome, row.reason) for row in db.session.scalars(select(MailHistory))]


def test_mail_activity_from_the_notifier_lands_in_the_users_history_once(
    app: Flask, database_url: str, amqp_url: str
) -> None:
    susan = make_user("susan")
    event = activity(susan)
    with running_relay(database_url, amqp_url):
        notifier_publishes(amqp_url, event)
        notifier_publishes(amqp_url, event)  # a redelivery or a replay: changes nothing
        wait_for(lambda: history() == [("skipped", "unconfirmed")], what="the entry in the history")
        wait_for(lambda: message_count(amqp_url, INBOX) == 0, what="both messages acked")
        notifier_publishes(amqp_url, activity(susan, outcome=MailOutcome.SENT, reason=None))
        wait_for(lambda: history() == [("sent", None)], what="the latest word on the mail")
    assert message_count(amqp_url, INBOX) == 0
    assert message_count(amqp_url, DEAD) == 0


def test_a_bounce_from_the_notifier_marks_the_users_address(app: Flask, database_url: str, amqp_url: str) -> None:
    susan = make_user("susan", email_confirmed_at=utcnow() - timedelta(days=1))
    bounce = MailBounced(data=MailBouncedData(user_id=susan.id, address="susan@example.com", event_id="evt-7",
                                              reply="550 5.1.1 mailbox unavailable", bounced_at=utcnow()))
    with running_relay(database_url, amqp_url):
        notifier_publishes(amqp_url, bounce)

        def bounced() -> bool:
            db.session.expire_all()
            user = db.session.get(User, susan.id)
            return user is not None and user.email_bounced

        wait_for(bounced, what="the bounce recorded")
    user = db.session.get(User, susan.id)
    assert user is not None and user.email_bounce_reply == "550 5.1.1 mailbox unavailable"


def test_a_message_social_cannot_read_is_dead_lettered_with_its_reason(
    app: Flask, database_url: str, amqp_url: str
) -> None:
    with running_relay(database_url, amqp_url):
        publish(amqp_url, b"not an event", message_id="junk-1", routing_key="mail.activity",
                exchange=NOTIFIER_EXCHANGE)
        (dead,) = wait_for_messages(amqp_url, DEAD, 1)
    assert dead.body == b"not an event"
    assert dead.properties.message_id == "junk-1"
    assert dead.headers["x-social-failure"] == "unreadable.not_json"
    assert message_count(amqp_url, INBOX) == 0


def test_the_inbox_queues_are_quorum_queues(app: Flask, database_url: str, amqp_url: str) -> None:
    with running_relay(database_url, amqp_url), channel(amqp_url) as ch:
        for queue in (INBOX, DEAD):
            # Declaring with other arguments would fail: the queue is there, as a quorum queue.
            ch.queue_declare(queue, passive=True)
    from tests.support.services import rabbit_api

    vhost = amqp_url.rsplit("/", 1)[-1]
    assert rabbit_api("GET", f"/queues/{vhost}/{INBOX}")["type"] == "quorum"  # type: ignore[index]


def test_the_inbox_comes_back_after_its_connection_is_cut(
    app: Flask, database_url: str, amqp_url: str, broker_proxy: TcpProxy
) -> None:
    susan = make_user("susan")
    with running_relay(database_url, broker_proxy.url(amqp_url)) as relay:
        broker_proxy.cut()
        wait_for(lambda: relay.readiness()["inbox"].ok, timeout=30, what="the inbox back")
        notifier_publishes(amqp_url, activity(susan))
        wait_for(lambda: history() == [("skipped", "unconfirmed")], timeout=30, what="the entry after the cut")
