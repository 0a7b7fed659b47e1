"""A deleted account: the notifier forgets the user (address, profile, deliveries, waiting notices,
suppression, skips) and no mail goes to or about them again, a replayed or retried one included;
and the mail that tells an address's owner someone tried to sign up with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from microblog_contracts import UserDeleted, UserDeletedData
from notifier.bootstrap import build_ledger, build_pipeline
from notifier.ledger import Ledger
from notifier.ledger.tables import (
    deleted_users,
    deliveries,
    last_notices,
    notices,
    recipients,
    schedule,
    skips,
    suppressions,
)
from notifier.pipeline import Outcome, Pipeline, Result, SkipReason

from tests.support.events import profile, profile_changed, reset_requested, signup_attempted, user_followed
from tests.support.fakes import FakeTransport, ManualClock
from tests.unit.notifier.conftest import unit_settings


def deleted(user_id: int) -> UserDeleted:
    return UserDeleted(data=UserDeletedData(user_id=user_id, deleted_at=datetime.now(UTC)))


def run(pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, body: bytes) -> Result:
    results: list[Result] = []
    pipeline.process(body, transport, results.append)
    assert ledger.flush(5)
    (result,) = results
    return result


def test_no_mail_goes_to_a_deleted_user_not_even_a_retried_or_replayed_one(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    queued = [user_followed(), reset_requested(profile())]  # asked for before the account went
    run(pipeline, ledger, transport, user_followed().to_json_bytes())
    assert run(pipeline, ledger, transport, deleted(100_000).to_json_bytes()).outcome is Outcome.NOTED
    for event in queued:
        result = run(pipeline, ledger, transport, event.to_json_bytes())
        assert (result.outcome, result.skip) == (Outcome.SKIPPED, SkipReason.USER_DELETED)
    assert len(transport.sent) == 1  # the one before the deletion
    assert ledger.skipped() == []  # not even the skips are kept about them


def test_no_mail_names_a_follower_who_deleted_their_account(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    run(pipeline, ledger, transport, deleted(777).to_json_bytes())
    result = run(pipeline, ledger, transport, user_followed(follower_id=777).to_json_bytes())
    assert result.skip is SkipReason.USER_DELETED
    assert run(pipeline, ledger, transport, user_followed(follower_id=778).to_json_bytes()).outcome is Outcome.SENT


def test_forgetting_removes_every_row_about_the_user_from_the_database(tmp_path: Path, clock: ManualClock) -> None:
    ledger = build_ledger(unit_settings(notifier_database_url=f"sqlite:///{tmp_path}/n.db"))
    ledger.start()
    try:
        pipeline = build_pipeline(unit_settings(notifier_follow_grace="1h"), ledger, clock=clock)
        transport = FakeTransport()
        gone, stays = profile(user_id=1, email="gone@example.com"), profile(user_id=2, email="stays@example.com")
        for who in (gone, stays):
            run(pipeline, ledger, transport, profile_changed(who).to_json_bytes())
            run(pipeline, ledger, transport, user_followed(followed_profile=who, follower_id=9).to_json_bytes())
        run(pipeline, ledger, transport, user_followed(followed_profile=stays, follower_id=1).to_json_bytes())
        engine = ledger.announcements().engine
        with engine.begin() as conn:  # a bounce and a skip on record for the user too
            conn.execute(sa.insert(suppressions), {"address": "gone@example.com", "user_id": 1, "reply": "550",
                                                   "suppressed_at": clock.now.replace(tzinfo=None), "event_id": "e"})
            conn.execute(sa.insert(skips), {"event_id": "s", "kind": "follower_email", "user_id": 1, "reason": "x",
                                            "skipped_at": clock.now.replace(tzinfo=None)})
            conn.execute(sa.insert(deliveries), {"event_id": "d", "recipient": "gone@example.com", "kind": "k",
                                                 "message_id": "<m>", "delivered_at": clock.now.replace(tzinfo=None)})
        run(pipeline, ledger, transport, deleted(1).to_json_bytes())
        with engine.connect() as conn:
            def count(table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
                return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar() or 0)
            assert count(recipients, recipients.c.user_id == 1) == 0
            assert count(notices, sa.or_(notices.c.user_id == 1, notices.c.follower_id == 1)) == 0
            assert count(schedule, schedule.c.user_id == 1) == 0
            assert count(suppressions, suppressions.c.user_id == 1) == 0
            assert count(skips, skips.c.user_id == 1) == 0
            assert count(deliveries, deliveries.c.recipient == "gone@example.com") == 0
            assert count(last_notices, last_notices.c.subject.like("%:1")) == 0
            assert count(deleted_users, deleted_users.c.user_id == 1) == 1
            # the other user keeps everything, but the notice about follower 1
            assert count(recipients, recipients.c.user_id == 2) == 1
            assert count(notices, notices.c.user_id == 2) == 1
    finally:
        ledger.stop()
        ledger.dispose()


def test_the_owner_of_an_address_hears_that_someone_tried_to_sign_up_with_it(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, clock: ManualClock) -> None:
    owner = profile(nickname="ana", email="ana@example.com", locale="zh-CN",
                    preferences=None, announcements=False)
    result = run(pipeline, ledger, transport, signup_attempted(owner, expires_at=clock.now + timedelta(hours=1))
                 .to_json_bytes())
    assert (result.outcome, result.mail_kind) == (Outcome.SENT, "already_registered")
    message = transport.sent[0].message
    assert message["Subject"] == "[microblog] 有人试图用你的地址注册"
    assert "List-Unsubscribe" not in message  # transactional: nothing to unsubscribe from
    late = signup_attempted(owner, expires_at=clock.now - timedelta(seconds=1))
    assert run(pipeline, ledger, transport, late.to_json_bytes()).skip is SkipReason.EXPIRED
