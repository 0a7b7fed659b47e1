"""The outbox relay on real databases and a real RabbitMQ vhost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from microblog_contracts import EXCHANGE, decode_event
from social.outbox.models import OutboxEvent
from social.outbox.schema import OutboxMissing
from social.relay.bootstrap import build_relay, relay_engine
from social.relay.service import RelayService
from social.settings import SocialSettings

from tests.support.amqp import channel, message_count, take_all, user_of
from tests.support.follows import follow_by_id, seed_users
from tests.support.proxy import TcpProxy
from tests.support.social_app import build_app
from tests.support.wait import wait_for

SINK = "test.sink"


def bind_sink(amqp_url: str, queue: str = SINK) -> None:
    """A queue that takes every event, standing in for the notifier."""
    with channel(amqp_url) as ch:
        ch.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        ch.queue_declare(queue, durable=True)
        ch.queue_bind(queue, EXCHANGE, routing_key="#")


@contextmanager
def running_relay(database_url: str, amqp_url: str, **overrides: object) -> Iterator[RelayService]:
    """A relay running on a thread of its own (without its probes), stopped at the end."""
    settings = SocialSettings(database_url=database_url, amqp_url=amqp_url, **overrides)  # type: ignore[arg-type]
    relay = build_relay(settings, serve_http=False)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        relay.stop()
        thread.join(30)
        assert not thread.is_alive(), "the relay did not stop"


def pending(app: Flask) -> list[OutboxEvent]:
    with app.app_context():
        from social.extensions import db

        return list(db.session.scalars(sa.select(OutboxEvent).where(OutboxEvent.published_at.is_(None))))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'social.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_a_follow_reaches_the_broker_as_a_persistent_cloudevent(database_url: str, amqp_url: str) -> None:
    app = build_app(database_url)
    alice, bob = seed_users(app, 2)
    bind_sink(amqp_url)
    with running_relay(database_url, amqp_url):
        assert follow_by_id(app, alice, bob)
        wait_for(lambda: message_count(amqp_url, SINK) == 1, what="the event at the broker")
    (message,) = take_all(amqp_url, SINK)
    event = decode_event(message.body)
    assert event.type == "user.followed"
    assert message.properties.message_id == event.id
    assert message.properties.delivery_mode == 2
    assert message.properties.content_type == "application/cloudevents+json"
    assert message.properties.user_id == user_of(amqp_url), "the publisher, for the notifier to trust"
    assert event.data.follower.profile_url.path == "/user/u0"  # type: ignore[attr-defined]
    assert pending(app) == []


def test_a_follow_made_while_the_broker_is_unreachable_goes_out_when_it_is_back(
    database_url: str, amqp_url: str, broker_proxy: TcpProxy
) -> None:
    app = build_app(database_url)
    alice, bob = seed_users(app, 2)
    bind_sink(amqp_url)
    broker_proxy.refuse()
    with running_relay(database_url, broker_proxy.url(amqp_url)):
        assert follow_by_id(app, alice, bob)  # the follow itself never waits on the broker
        assert len(pending(app)) == 1
        broker_proxy.accept()
        wait_for(lambda: message_count(amqp_url, SINK) == 1, timeout=60, what="the event after the outage")
    assert pending(app) == []


def test_an_event_no_queue_takes_stays_pending_until_one_does(database_url: str, amqp_url: str) -> None:
    app = build_app(database_url)
    alice, bob = seed_users(app, 2)
    with running_relay(database_url, amqp_url):
        follow_by_id(app, alice, bob)
        wait_for(lambda: (rows := pending(app)) and rows[0].last_error == "returned", what="the event returned")
        bind_sink(amqp_url)
        wait_for(lambda: message_count(amqp_url, SINK) == 1, timeout=60, what="the event once a queue is bound")
    assert pending(app) == []


def test_two_relays_on_postgresql_publish_every_event_once(postgres_url: str, amqp_url: str) -> None:
    app = build_app(postgres_url)
    ids = seed_users(app, 401)
    bind_sink(amqp_url)
    with running_relay(postgres_url, amqp_url, relay_batch_size=20), \
            running_relay(postgres_url, amqp_url, relay_batch_size=20):
        for follower in ids[1:]:
            follow_by_id(app, follower, ids[0])
        wait_for(lambda: not pending(app), timeout=60, what="every event published")
    messages = take_all(amqp_url, SINK)
    assert len(messages) == 400
    assert len({m.properties.message_id for m in messages}) == 400


def test_the_relay_refuses_to_start_on_a_database_without_the_schema(tmp_path: Path) -> None:
    relay = build_relay(SocialSettings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"), serve_http=False)  # type: ignore[call-arg]
    with pytest.raises(OutboxMissing, match="social db upgrade"):
        relay.check_outbox()


def test_published_events_keep_their_outbox_rows_for_replay(database_url: str, amqp_url: str) -> None:
    app = build_app(database_url)
    alice, bob, carol = seed_users(app, 3)
    bind_sink(amqp_url)
    with running_relay(database_url, amqp_url):
        follow_by_id(app, alice, bob)
        follow_by_id(app, carol, bob)
        wait_for(lambda: message_count(amqp_url, SINK) == 2, what="both events")
    with app.app_context():
        from social.extensions import db

        rows = db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.position)).all()
    assert [r.published_at is not None for r in rows] == [True, True]
    assert [r.event_type for r in rows] == ["user.followed", "user.followed"]


def test_a_broker_that_nacks_keeps_the_event_pending(database_url: str, amqp_url: str) -> None:
    app = build_app(database_url)
    alice, bob = seed_users(app, 2)
    with channel(amqp_url) as ch:
        ch.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        # A full queue that rejects new publishes: the broker nacks them.
        ch.queue_declare(SINK, durable=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
        ch.queue_bind(SINK, EXCHANGE, routing_key="#")
    with running_relay(database_url, amqp_url):
        follow_by_id(app, alice, bob)
        wait_for(lambda: (rows := pending(app)) and rows[0].last_error == "nacked", what="the event nacked")
    assert len(pending(app)) == 1


def test_the_relays_postgresql_commits_do_not_wait_for_a_disk_flush_but_the_webs_do(postgres_url: str) -> None:
    # A mark lost to a database crash only republishes an event the notifier folds; a follow
    # lost that way would be gone, so only the relay's connections skip the flush.
    from social.extensions import db

    relay = relay_engine(postgres_url)
    try:
        with relay.begin() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    finally:
        relay.dispose()
    with build_app(postgres_url).app_context():
        assert db.session.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"
