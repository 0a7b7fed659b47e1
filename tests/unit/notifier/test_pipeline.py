"""What the pipeline decides for one message, through the composition root with fakes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from microblog_contracts import MAX_EVENT_BYTES
from notifier.errors import SmtpRecipientRefused, SmtpUnavailable
from notifier.ledger import Ledger
from notifier.pipeline import Outcome, Pipeline, Result, SkipReason

from tests.support.events import later, user_followed
from tests.support.fakes import FakeTransport, MemoryStore


def run(pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, body: bytes, *,
        resend: bool = False) -> Result:
    results: list[Result] = []
    pipeline.process(body, transport, results.append, resend=resend)
    assert ledger.flush(5)
    (result,) = results
    return result


def test_an_event_is_mailed_once_and_recorded(pipeline: Pipeline, ledger: Ledger, transport: FakeTransport,
                                              store: MemoryStore) -> None:
    event = user_followed(follower="alice", followed="bob", email="Bob@Example.com")
    result = run(pipeline, ledger, transport, event.to_json_bytes())
    assert result.outcome is Outcome.SENT
    assert result.mail_kind == "follower_email"
    assert result.recipient_domain == "example.com"
    (mail,) = transport.sent
    assert mail.recipients == ["bob@example.com"]
    assert mail.message["Subject"] == "[microblog] alice is now following you!"
    assert mail.message["Message-ID"] == f"<{event.id}.follower_email@example.com>"
    assert [r.key.event_id for batch in store.commits for r in batch] == [event.id]


def test_the_same_event_again_is_folded_as_a_duplicate(pipeline: Pipeline, ledger: Ledger,
                                                       transport: FakeTransport) -> None:
    body = user_followed().to_json_bytes()
    assert run(pipeline, ledger, transport, body).outcome is Outcome.SENT
    assert run(pipeline, ledger, transport, body).outcome is Outcome.DUPLICATE
    assert len(transport.sent) == 1


def test_a_copy_arriving_before_the_first_is_committed_is_folded_too(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, store: MemoryStore) -> None:
    body = user_followed().to_json_bytes()
    store.hold_writes.clear()
    results: list[Result] = []
    pipeline.process(body, transport, results.append)
    pipeline.process(body, transport, results.append)
    assert [r.outcome for r in results] == [Outcome.DUPLICATE]  # the first waits for its commit
    store.hold_writes.set()
    assert ledger.flush(5)
    assert [r.outcome for r in results] == [Outcome.DUPLICATE, Outcome.SENT]
    assert len(transport.sent) == 1


def test_sent_is_reported_only_after_the_ledger_committed_the_mail(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, store: MemoryStore) -> None:
    store.hold_writes.clear()
    results: list[Result] = []
    pipeline.process(user_followed().to_json_bytes(), transport, results.append)
    assert len(transport.sent) == 1
    assert results == []
    store.hold_writes.set()
    assert ledger.flush(5)
    assert [r.outcome for r in results] == [Outcome.SENT]


def test_a_refollow_inside_the_cooldown_is_skipped_and_outside_it_is_mailed(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport) -> None:
    first = user_followed(follower_id=7, followed_id=8)
    again = user_followed(follower_id=7, followed_id=8, at=later(first, timedelta(hours=2)))
    much_later = user_followed(follower_id=7, followed_id=8, at=later(first, timedelta(days=2)))
    assert run(pipeline, ledger, transport, first.to_json_bytes()).outcome is Outcome.SENT
    skipped = run(pipeline, ledger, transport, again.to_json_bytes())
    assert (skipped.outcome, skipped.skip) == (Outcome.SKIPPED, SkipReason.COOLDOWN)
    assert first.id in (skipped.detail or "")
    assert run(pipeline, ledger, transport, much_later.to_json_bytes()).outcome is Outcome.SENT
    assert len(transport.sent) == 2


def test_a_resend_mails_again_what_the_ledger_says_was_mailed(pipeline: Pipeline, ledger: Ledger,
                                                              transport: FakeTransport) -> None:
    body = user_followed().to_json_bytes()
    run(pipeline, ledger, transport, body)
    assert run(pipeline, ledger, transport, body, resend=True).outcome is Outcome.SENT
    assert len(transport.sent) == 2


def test_a_4xx_is_retried_and_names_the_smtp_failure(pipeline: Pipeline, ledger: Ledger,
                                                     transport: FakeTransport) -> None:
    transport.failures.append(SmtpUnavailable("451 4.3.0 try again later"))
    result = run(pipeline, ledger, transport, user_followed().to_json_bytes())
    assert result.outcome is Outcome.RETRY
    assert result.failure is not None
    assert (result.failure.kind, result.failure.transient) == ("smtp_unavailable", True)


def test_a_5xx_for_the_recipient_is_dead_at_once(pipeline: Pipeline, ledger: Ledger,
                                                 transport: FakeTransport) -> None:
    transport.failures.append(SmtpRecipientRefused("recipient refused: 550 5.1.1 no such user"))
    result = run(pipeline, ledger, transport, user_followed().to_json_bytes())
    assert result.outcome is Outcome.DEAD
    assert result.failure is not None
    assert result.failure.kind == "recipient_refused"
    assert "550 5.1.1" in result.failure.detail


def test_a_ledger_that_does_not_answer_means_try_later_and_no_mail(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, store: MemoryStore) -> None:
    store.down = True
    results: list[Result] = []
    pipeline.process(user_followed().to_json_bytes(), transport, results.append)
    assert [(r.outcome, r.failure.kind if r.failure else None) for r in results] == [
        (Outcome.RETRY, "ledger_unavailable")]
    assert transport.sent == []


VALID = json.loads(user_followed().to_json_bytes())


@pytest.mark.parametrize(("body", "kind"), [
    (b"not json", "unreadable.not_json"),
    (b"[]", "unreadable.not_cloudevent"),
    (json.dumps({**VALID, "type": "user.poked"}).encode(), "unknown_type"),
    (json.dumps({**VALID, "dataschema": "urn:microblog:schema:user.followed:99"}).encode(), "unknown_version"),
    (json.dumps({**VALID, "data": {**VALID["data"], "followed": {"id": -1}}}).encode(), "unreadable.invalid_data"),
    (b"{" + b" " * MAX_EVENT_BYTES + b"}", "unreadable.too_large"),
])
def test_an_unreadable_message_is_dead_with_a_kind_for_each_reason(
        pipeline: Pipeline, ledger: Ledger, transport: FakeTransport, body: bytes, kind: str) -> None:
    result = run(pipeline, ledger, transport, body)
    assert result.outcome is Outcome.DEAD
    assert result.failure is not None
    assert (result.failure.kind, result.failure.transient) == (kind, False)
    assert transport.sent == []


def test_the_preview_says_what_would_happen_without_sending(pipeline: Pipeline, ledger: Ledger,
                                                            transport: FakeTransport) -> None:
    mailed, fresh = user_followed(), user_followed()
    run(pipeline, ledger, transport, mailed.to_json_bytes())
    assert pipeline.preview(mailed.to_json_bytes()).outcome is Outcome.DUPLICATE
    assert pipeline.preview(mailed.to_json_bytes(), resend=True).outcome is Outcome.SENT
    assert pipeline.preview(fresh.to_json_bytes()).outcome is Outcome.SENT
    assert pipeline.preview(b"garbage").outcome is Outcome.DEAD
    assert len(transport.sent) == 1
