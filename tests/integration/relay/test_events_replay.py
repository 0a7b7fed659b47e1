"""`social events replay`: republishing from the outbox, the source of truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.relay.test_relay import SINK, bind_sink, running_relay
from tests.support.amqp import message_count, take_all
from tests.support.cli import run_cli
from tests.support.follows import follow_by_id, seed_users
from tests.support.social_app import build_app
from tests.support.wait import wait_for


def test_events_replay_republishes_published_events_with_their_ids_and_can_run_twice(
    amqp_url: str, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    app = build_app(database_url)
    a, b, c = seed_users(app, 3)
    bind_sink(amqp_url)
    with running_relay(database_url, amqp_url):
        follow_by_id(app, a, b)
        follow_by_id(app, c, b)
        wait_for(lambda: message_count(amqp_url, SINK) == 2, what="the two events")
    originals = sorted(m.properties.message_id for m in take_all(amqp_url, SINK))
    env = {"DATABASE_URL": database_url, "AMQP_URL": amqp_url}

    dry = run_cli(["social", "events", "replay", "--since", "3600", "--dry-run"], env)  # a bare number: seconds ago
    assert dry.code == 0, dry.err
    assert "would republish 2 event(s)" in dry.out
    assert message_count(amqp_url, SINK) == 0

    for _ in range(2):
        again = run_cli(["social", "events", "replay", "--since", "1h", "--type", "user.followed"], env)
        assert again.code == 0, again.err
        assert "republished 2 event(s)" in again.out
        assert sorted(m.properties.message_id for m in take_all(amqp_url, SINK)) == originals

    none = run_cli(["social", "events", "replay", "--since", "2000-01-01", "--until", "2000-01-02"], env)
    assert "republished 0 event(s)" in none.out

    wrong = run_cli(["social", "events", "replay", "--since", "yesterday"], env)
    assert wrong.code == 2
    assert "not a time: 'yesterday'" in wrong.err


@pytest.mark.slow
def test_events_replay_says_when_the_broker_is_not_there(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    app = build_app(database_url)
    a, b = seed_users(app, 2)
    follow_by_id(app, a, b)
    from social.dbtypes import utcnow
    from social.extensions import db
    from social.outbox.models import OutboxEvent

    with app.app_context():
        db.session.execute(db.update(OutboxEvent).values(published_at=utcnow()))
        db.session.commit()
    ran = run_cli(["social", "events", "replay", "--since", "1h"],
                  {"DATABASE_URL": database_url, "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/%2F"})
    assert ran.code == 1
    assert "cannot reach RabbitMQ" in ran.err
