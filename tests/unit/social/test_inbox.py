"""The relay's inbox: what the notifier tells of mail (history, bounces), through the relay's
composition root with a fake broker, on a real SQLite database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from microblog_contracts import (
    EMAIL_CONFIRMATION_REQUESTED,
    USER_PROFILE_CHANGED,
    MailActivity,
    MailActivityData,
    MailActivityEntry,
    MailBounced,
    MailBouncedData,
    UserUnfollowed,
    UserUnfollowedData,
)
from prometheus_client import CollectorRegistry
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.history import MailHistory
from social.models import User
from social.relay.bootstrap import build_relay
from social.settings import SocialSettings
from sqlalchemy import select

from tests.support.social_app import api_token, bearer, build_app, log_in, mailed_token, make_user, recorded_events
from tests.support.wait import wait_for
from tests.unit.social.fakes import FakeInboxBroker, FakePublisher


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = build_app(f"sqlite:///{tmp_path / 'social.db'}", migrate=True)
    with app.app_context():
        yield app


@contextmanager
def inbox(app: Flask, broker: FakeInboxBroker, registry: CollectorRegistry | None = None) -> Iterator[None]:
    """The relay, built as `social relay` builds it but with fake brokers, running on a thread."""
    settings = SocialSettings(database_url=app.config["SQLALCHEMY_DATABASE_URI"], relay_poll_interval=0.01)  # type: ignore[call-arg]
    relay = build_relay(settings, publisher=FakePublisher(), inbox_connect=broker.connect, registry=registry,
                        serve_http=False)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        relay.stop()
        thread.join(5)
        assert not thread.is_alive(), "the relay did not stop"


def settled(broker: FakeInboxBroker, count: int) -> None:
    wait_for(lambda: len(broker.acked) >= count, what=f"{count} message(s) settled")


def entry(user_id: int | None, *, id: str = "evt-1/follower_email/1", outcome: str = "sent",
          reason: str | None = None, at: datetime | None = None, kind: str = "follower_email",
          merged_into_at: datetime | None = None) -> MailActivityEntry:
    return MailActivityEntry(id=id, user_id=user_id, kind=kind, event_id="evt-1", outcome=outcome,  # type: ignore[arg-type]
                             reason=reason, at=at or utcnow(), merged_into_at=merged_into_at)


def activity(*entries: MailActivityEntry) -> bytes:
    return MailActivity(data=MailActivityData(entries=list(entries))).to_json_bytes()


def bounce(user: User, *, at: datetime | None = None, address: str | None = None) -> bytes:
    return MailBounced(data=MailBouncedData(user_id=user.id, address=address or user.email, event_id="evt-9",
                                            reply="550 5.1.1 no such user", bounced_at=at or utcnow())).to_json_bytes()


def history() -> list[tuple[str, str, str | None]]:
    db.session.expire_all()
    rows = db.session.scalars(select(MailHistory).order_by(MailHistory.id))
    return [(row.id, row.outcome, row.reason) for row in rows]


def test_activity_is_kept_per_mail_and_the_same_entry_twice_changes_nothing(app: Flask) -> None:
    susan = make_user("susan")
    broker = FakeInboxBroker()
    skipped = entry(susan.id, outcome="skipped", reason="unconfirmed")
    broker.publish(activity(skipped, entry(susan.id, id="evt-2/follower_email/1")))
    broker.publish(activity(skipped))
    with inbox(app, broker):
        settled(broker, 2)
    assert history() == [("evt-1/follower_email/1", "skipped", "unconfirmed"), ("evt-2/follower_email/1", "sent", None)]
    assert broker.dead_letters() == []


def test_the_latest_word_on_a_mail_wins_whatever_order_it_comes_in(app: Flask) -> None:
    susan = make_user("susan")
    broker = FakeInboxBroker()
    first = utcnow() - timedelta(minutes=5)
    broker.publish(activity(entry(susan.id, outcome="sent", at=first + timedelta(minutes=1))))
    broker.publish(activity(entry(susan.id, outcome="failed", reason="smtp_unavailable", at=first)))  # late, older
    with inbox(app, broker):
        settled(broker, 2)
    assert history() == [("evt-1/follower_email/1", "sent", None)]


def test_entries_of_unknown_users_and_older_than_thirty_days_are_not_kept(app: Flask) -> None:
    susan = make_user("susan")
    broker = FakeInboxBroker()
    broker.publish(activity(entry(None, id="a"), entry(999, id="b"),
                            entry(susan.id, id="c", at=utcnow() - timedelta(days=31)), entry(susan.id, id="d")))
    with inbox(app, broker):
        settled(broker, 1)
    assert [row[0] for row in history()] == ["d"]


def test_the_inbox_purges_history_older_than_thirty_days(app: Flask) -> None:
    susan = make_user("susan")
    db.session.add(MailHistory(id="old", user_id=susan.id, kind="follower_email", event_id="e", outcome="sent",
                               at=utcnow() - timedelta(days=31)))
    db.session.commit()
    broker = FakeInboxBroker()
    with inbox(app, broker):
        wait_for(lambda: history() == [], what="the old row purged")


def in_tokyo(at: datetime) -> str:
    return at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M JST")


def test_the_settings_page_lists_recent_mail_in_plain_words_and_the_users_time_zone(
        app: Flask, client: FlaskClient) -> None:
    susan = make_user("susan", time_zone="Asia/Tokyo")
    broker = FakeInboxBroker()
    sent_at = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=5)
    merged_at = sent_at + timedelta(minutes=1)
    broker.publish(activity(
        entry(susan.id, id="1", outcome="skipped", reason="unconfirmed", at=sent_at),
        entry(susan.id, id="2", outcome="skipped", reason="daily_cap", at=sent_at),
        entry(susan.id, id="3", outcome="failed", reason="recipient_refused", kind="password_reset", at=sent_at),
        entry(susan.id, id="4", outcome="skipped", reason="merged", merged_into_at=merged_at, at=sent_at),
        entry(susan.id, id="5", outcome="skipped", reason="something_new", kind="email_change_notice", at=sent_at),
        entry(susan.id, id="6", outcome="sent", kind="email_confirmation", at=sent_at),
        entry(susan.id, id="7", outcome="sent", kind="follower_batch", at=merged_at),
        entry(susan.id, id="8", outcome="skipped", reason="follow_undone", at=sent_at),
    ))
    with inbox(app, broker):
        settled(broker, 1)
    log_in(client, "susan")
    page = client.get("/settings/notifications").get_data(as_text=True)
    for words in ("New follower", "Not sent: your address was not confirmed yet",
                  "Not sent: you had already had the most notification mails we send in a day",
                  "Password reset", "Could not be sent: your mail server refused it",
                  f"Not sent on its own: gathered into the mail of {in_tokyo(merged_at)}",
                  "Address change notice", "Not sent: something went wrong on our side",
                  "Address confirmation", "Sent", "New followers",
                  "Not sent: the follow was undone before the mail went",
                  f'<time datetime="{sent_at.isoformat()}">{in_tokyo(sent_at)}</time>'):
        assert words in page, words


def test_a_bounce_shows_a_banner_and_confirming_the_address_again_lifts_it(app: Flask, client: FlaskClient) -> None:
    susan = make_user("susan", email_confirmed_at=utcnow() - timedelta(days=1), profile_version=2)
    broker = FakeInboxBroker()
    broker.publish(bounce(susan), event_type="mail.bounced")
    with inbox(app, broker):
        settled(broker, 1)
    log_in(client, "susan")
    banner = "Mail to susan@example.com was refused: <a href=\"/settings/email\">check your address</a>."
    assert banner in client.get("/").get_data(as_text=True)
    assert banner in client.get("/user/susan").get_data(as_text=True)
    assert client.get("/api/users/me", headers=bearer(api_token(client, "susan"))).get_json()["email_bounced"]

    page = client.post("/settings/email/confirmation", follow_redirects=True).get_data(as_text=True)
    assert "We sent a new link to susan@example.com" in page
    client.post(f"/confirm/{mailed_token(EMAIL_CONFIRMATION_REQUESTED, 'confirm_url')}")

    assert banner not in client.get("/").get_data(as_text=True)
    profile = recorded_events(USER_PROFILE_CHANGED)[-1].data.profile
    assert profile.version == 3
    assert profile.email_confirmed_at is not None and profile.email_confirmed_at > utcnow() - timedelta(minutes=1)


def test_a_bounce_for_an_address_the_user_no_longer_has_or_confirmed_since_changes_nothing(app: Flask) -> None:
    susan = make_user("susan", email_confirmed_at=utcnow())
    broker = FakeInboxBroker()
    broker.publish(bounce(susan, address="old@example.com"), event_type="mail.bounced")
    broker.publish(bounce(susan, at=utcnow() - timedelta(hours=1)), event_type="mail.bounced")
    with inbox(app, broker):
        settled(broker, 2)
    db.session.expire_all()
    assert db.session.get(User, susan.id).email_bounced_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("body", "failure"), [
    (b"not json", "unreadable.not_json"),
    (b'{"specversion": "1.0"}', "unreadable.not_cloudevent"),
    (b'{"specversion": "1.0", "id": "x", "type": "mail.activity", "dataschema": "urn:microblog:schema:mail.activity:9",'
     b' "data": {}}', "unreadable.unknown_version"),
])
def test_an_unreadable_message_is_dead_lettered_with_its_reason_and_acked(
    app: Flask, body: bytes, failure: str
) -> None:
    broker = FakeInboxBroker()
    broker.publish(body, message_id="m-1")
    registry = CollectorRegistry()
    with inbox(app, broker, registry):
        settled(broker, 1)
    [(dead_body, headers)] = broker.dead_letters()
    assert dead_body == body
    assert headers["x-social-failure"] == failure
    assert registry.get_sample_value("relay_inbox_messages_total", {"type": "unknown", "outcome": "dead"}) == 1


def test_an_event_social_does_not_read_is_dead_lettered(app: Flask) -> None:
    broker = FakeInboxBroker()
    unfollowed = UserUnfollowed(data=UserUnfollowedData(follower_id=1, followed_id=2, unfollowed_at=utcnow()))
    broker.publish(unfollowed.to_json_bytes())
    with inbox(app, broker):
        settled(broker, 1)
    assert broker.dead_letters()[0][1]["x-social-failure"] == "unhandled_type"


def test_the_inbox_declares_its_quorum_queue_dead_letters_and_bindings(app: Flask) -> None:
    broker = FakeInboxBroker()
    with inbox(app, broker):
        wait_for(lambda: broker.bindings, what="the queue bound")
    assert broker.declared["notifier.events"] == {"type": "topic", "durable": True}
    assert broker.declared["social.mail-activity"]["x-queue-type"] == "quorum"
    assert broker.declared["social.mail-activity"]["x-dead-letter-routing-key"] == "social.mail-activity.dead"
    assert broker.declared["social.mail-activity.dead"] == {"x-queue-type": "quorum"}
    assert sorted(broker.bindings) == [("notifier.events", "mail.activity", "social.mail-activity"),
                                       ("notifier.events", "mail.bounced", "social.mail-activity")]


def test_while_the_database_is_away_messages_wait_in_the_broker_then_go_through(tmp_path: Path) -> None:
    # No schema yet: every write fails as a database that is not there does.
    url = f"sqlite:///{tmp_path / 'late.db'}"
    broker = FakeInboxBroker()
    broker.publish(activity(entry(1)))
    settings = SocialSettings(database_url=url, relay_poll_interval=0.01)  # type: ignore[call-arg]
    relay = build_relay(settings, publisher=FakePublisher(), inbox_connect=broker.connect, serve_http=False)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: broker.connections >= 2, what="the inbox to give the message back and connect again")
        assert broker.acked == [] and broker.pending == 1 and broker.dead_letters() == []
        app = build_app(url, migrate=True)
        with app.app_context():
            make_user("susan")
            wait_for(lambda: broker.acked, timeout=15, what="the message to go through once the schema is there")
            assert [row[0] for row in history()] == ["evt-1/follower_email/1"]
    finally:
        relay.stop()
        thread.join(5)


def test_the_inbox_connects_again_after_the_broker_refused(app: Flask) -> None:
    broker = FakeInboxBroker(refuse_connections=2)
    broker.publish(activity(entry(make_user("susan").id)))
    with inbox(app, broker):
        settled(broker, 1)
    assert broker.connections == 3
