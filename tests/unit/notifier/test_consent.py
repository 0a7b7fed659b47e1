"""Mail only to addresses that asked for it: confirmation, preferences, bounces, the daily cap,
expired links, through the pipeline with fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from microblog_contracts import NoticeMode
from notifier.bootstrap import build_pipeline
from notifier.errors import SmtpRecipientRefused
from notifier.ledger import Ledger
from notifier.pipeline import Outcome, Pipeline, Result, SkipReason

from tests.support.events import (
    change_requested,
    confirmation_requested,
    profile,
    profile_changed,
    reset_requested,
    user_followed,
    user_followed_v1,
)
from tests.support.fakes import FakeTransport, ManualClock, MemoryStore
from tests.unit.notifier.conftest import unit_settings


def run(pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, body: bytes) -> Result:
    results: list[Result] = []
    pipeline.process(body, transport, results.append)
    assert ledger.flush(5)
    (result,) = results
    return result


def test_no_notification_goes_to_an_unconfirmed_address_and_the_skip_is_recorded(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, store: MemoryStore) -> None:
    event = user_followed(followed_profile=profile(confirmed=False))
    result = run(pipeline, ledger, transport, event.to_json_bytes())
    assert (result.outcome, result.skip) == (Outcome.SKIPPED, SkipReason.UNCONFIRMED)
    assert transport.sent == []
    (skip,) = ledger.skipped()
    assert (skip.event_id, skip.kind, skip.reason, skip.user_id) == (event.id, "follower_email", "unconfirmed", 100_000)


def test_a_preference_changed_after_the_follow_decides_when_the_mail_goes(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    queued = user_followed(followed_profile=profile(version=3))  # asked for while notices were on
    off = profile_changed(profile(version=4, follow_notices=NoticeMode.OFF))
    assert run(pipeline, ledger, transport, off.to_json_bytes()).outcome is Outcome.NOTED
    result = run(pipeline, ledger, transport, queued.to_json_bytes())
    assert (result.outcome, result.skip) == (Outcome.SKIPPED, SkipReason.UNSUBSCRIBED)
    on_again = profile_changed(profile(version=5))
    run(pipeline, ledger, transport, on_again.to_json_bytes())
    assert run(pipeline, ledger, transport, user_followed().to_json_bytes()).outcome is Outcome.SENT


def test_an_older_profile_change_does_not_undo_the_events_newer_snapshot(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    run(pipeline, ledger, transport, profile_changed(profile(version=2, follow_notices=NoticeMode.OFF)).to_json_bytes())
    fresh = user_followed(followed_profile=profile(version=7))
    assert run(pipeline, ledger, transport, fresh.to_json_bytes()).outcome is Outcome.SENT


def test_a_new_confirmed_address_receives_the_mail_of_an_event_from_before_the_change(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    queued = user_followed(followed_profile=profile(version=1, email="old@example.com"))
    run(pipeline, ledger, transport, profile_changed(profile(version=2, email="new@example.com")).to_json_bytes())
    assert run(pipeline, ledger, transport, queued.to_json_bytes()).outcome is Outcome.SENT
    assert transport.sent[0].recipients == ["new@example.com"]


def test_a_permanent_refusal_suppresses_the_address_until_it_is_confirmed_again(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, clock: ManualClock) -> None:
    transport.failures.append(SmtpRecipientRefused("recipient refused: 550 5.1.1 no such user"))
    refused = run(pipeline, ledger, transport, user_followed().to_json_bytes())
    assert refused.outcome is Outcome.DEAD
    assert refused.failure is not None and refused.failure.kind == "recipient_refused"
    later = run(pipeline, ledger, transport, user_followed().to_json_bytes())
    assert (later.outcome, later.skip) == (Outcome.SKIPPED, SkipReason.SUPPRESSED)
    # Transactional mail still goes: how else would the owner confirm the address again?
    assert run(pipeline, ledger, transport, confirmation_requested(profile()).to_json_bytes()).outcome is Outcome.SENT
    clock.advance(timedelta(minutes=5))
    run(pipeline, ledger, transport, profile_changed(profile(version=2, confirmed_at=clock.now)).to_json_bytes())
    assert run(pipeline, ledger, transport, user_followed().to_json_bytes()).outcome is Outcome.SENT


def test_the_daily_cap_stops_notifications_to_one_address_but_not_transactional_mail(
        ledger: Ledger, transport: FakeTransport, clock: ManualClock) -> None:
    pipeline = build_pipeline(unit_settings(notifier_daily_cap=2), ledger, clock=clock)
    outcomes = [run(pipeline, ledger, transport, user_followed(at=clock.now).to_json_bytes()).skip for _ in range(3)]
    assert outcomes == [None, None, SkipReason.DAILY_CAP]
    assert run(pipeline, ledger, transport, reset_requested(expires_at=clock.now + timedelta(hours=1)).to_json_bytes()
               ).outcome is Outcome.SENT
    clock.advance(timedelta(hours=24, seconds=1))
    assert run(pipeline, ledger, transport, user_followed(at=clock.now).to_json_bytes()).outcome is Outcome.SENT


def test_no_cap_at_all_when_it_is_zero(ledger: Ledger, transport: FakeTransport, clock: ManualClock) -> None:
    pipeline = build_pipeline(unit_settings(notifier_daily_cap=0), ledger, clock=clock)
    outcomes = {run(pipeline, ledger, transport, user_followed().to_json_bytes()).outcome for _ in range(60)}
    assert outcomes == {Outcome.SENT}


def test_a_confirmation_goes_to_the_unconfirmed_address_it_confirms_but_never_after_it_expired(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, clock: ManualClock) -> None:
    fresh = confirmation_requested(profile(confirmed=False), address="new@example.com",
                                   expires_at=clock.now + timedelta(days=7))
    assert run(pipeline, ledger, transport, fresh.to_json_bytes()).outcome is Outcome.SENT
    (mail,) = transport.sent
    assert mail.recipients == ["new@example.com"]
    assert mail.message["Subject"] == "[microblog] Confirm your e-mail address"
    assert str(fresh.data.confirm_url) in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mail.message["List-Unsubscribe"] is None
    stale = confirmation_requested(expires_at=clock.now - timedelta(seconds=1))
    result = run(pipeline, ledger, transport, stale.to_json_bytes())
    assert (result.outcome, result.skip) == (Outcome.SKIPPED, SkipReason.EXPIRED)
    assert len(transport.sent) == 1


def test_a_change_of_address_is_told_to_the_old_one(pipeline: Pipeline, ledger: Ledger,
                                                    transport: FakeTransport) -> None:
    event = change_requested(profile(email="old@example.com"), new_address="new@example.com")
    assert run(pipeline, ledger, transport, event.to_json_bytes()).outcome is Outcome.SENT
    (mail,) = transport.sent
    assert mail.recipients == ["old@example.com"]
    assert "new@example.com" in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_notification_carries_one_click_unsubscribe_and_a_visible_link(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    event = user_followed()
    run(pipeline, ledger, transport, event.to_json_bytes())
    message = transport.sent[0].message
    url = str(event.data.followed.unsubscribe_urls["follow_notices"])  # type: ignore[index]
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith("<follow-notices.example.com>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert url in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f'href="{url}"' in message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_a_follow_from_before_profiles_is_mailed_without_list_headers(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    assert run(pipeline, ledger, transport, user_followed_v1().to_json_bytes()).outcome is Outcome.SENT
    assert transport.sent[0].message["List-Unsubscribe"] is None


def test_skipped_mails_can_be_listed_by_reason_and_time(pipeline: Pipeline, ledger: Ledger, transport: FakeTransport,
                                                        clock: ManualClock) -> None:
    run(pipeline, ledger, transport, user_followed(followed_profile=profile(confirmed=False)).to_json_bytes())
    clock.advance(timedelta(hours=2))
    expired = confirmation_requested(expires_at=datetime(2026, 1, 1, tzinfo=UTC))
    run(pipeline, ledger, transport, expired.to_json_bytes())
    assert [s.reason for s in ledger.skipped()] == ["expired", "unconfirmed"]
    assert [s.reason for s in ledger.skipped(reason="unconfirmed")] == ["unconfirmed"]
    assert [s.reason for s in ledger.skipped(since=clock.now - timedelta(hours=1))] == ["expired"]
