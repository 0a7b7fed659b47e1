"""Announcements on the notifier's side, through the composition root with a fake SMTP session
and the ledger's tables on SQLite: intake in any order, consent, languages, attachments byte for
byte, cancels, refusals, leases and the shared rate."""

from __future__ import annotations

import email.policy
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from microblog_contracts import AnnouncementText, MailPreferences
from notifier.announcements.intake import Intake
from notifier.announcements.pacing import SharedRate, UrgentWork
from notifier.announcements.sender import BulkSender, SmtpDown
from notifier.bootstrap import build_bulk_sender, build_ledger, build_pipeline
from notifier.errors import SmtpRecipientRefused, SmtpUnavailable
from notifier.ledger import Ledger
from notifier.ledger.tables import activity_outbox, skips, suppressions
from notifier.pipeline import Outcome, Pipeline, Result

from tests.support.announcements import Announced, File, announcement
from tests.support.events import profile, profile_changed
from tests.support.fakes import FakeTransport, ManualClock
from tests.unit.notifier.conftest import unit_settings

PDF = File("报告 2026.pdf", "application/pdf", bytes(range(256)) * 300 + b"%%EOF")
NOTES = File("notes.txt", "text/plain", b"line one\r\n.line starting with a dot\nlast line without an end")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    ledger = build_ledger(unit_settings(notifier_database_url=f"sqlite:///{tmp_path}/notifier.db"))
    ledger.start()
    yield ledger
    ledger.stop()
    ledger.dispose()


@pytest.fixture
def intake(ledger: Ledger, clock: ManualClock) -> Intake:
    return Intake(ledger.announcements(), clock=clock)


BULK_SENDER = "Microblog News <news@example.org>"


@pytest.fixture
def pipeline(ledger: Ledger, clock: ManualClock, intake: Intake) -> Pipeline:
    return build_pipeline(unit_settings(mail_bulk_sender=BULK_SENDER), ledger, clock=clock, intake=intake)


def bulk_sender(ledger: Ledger, pipeline: Pipeline, clock: ManualClock, owner: str = "replica-1") -> BulkSender:
    return build_bulk_sender(unit_settings(mail_bulk_sender=BULK_SENDER), ledger, pipeline,
                             transport_factory=FakeTransport, teller=None, clock=clock, owner=owner)


@pytest.fixture
def sender(ledger: Ledger, pipeline: Pipeline, clock: ManualClock) -> BulkSender:
    return bulk_sender(ledger, pipeline, clock)


def take_all(intake: Intake, announced: Announced) -> None:
    for event in announced.events:
        intake.take(event)  # type: ignore[arg-type]


def send_everything(sender: BulkSender, transport: FakeTransport) -> None:
    while sender.run_once(transport):
        pass


def told(ledger: Ledger) -> list[dict[str, object]]:
    with ledger.announcements().engine.connect() as conn:
        rows = conn.execute(sa.select(activity_outbox.c.kind, activity_outbox.c.body)).all()
    return [json.loads(body) | {"_kind": kind} for kind, body in rows]


def test_every_recipient_gets_one_mail_with_each_attachment_byte_for_byte(
        intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    people = [profile(user_id=i, nickname=f"user{i}", email=f"user{i}@example.org") for i in range(1, 8)]
    announced = announcement(people, files=[PDF, NOTES], chunk_bytes=10_000, per_batch=3)
    take_all(intake, announced)
    send_everything(sender, transport)
    assert sorted(m.recipients[0] for m in transport.sent) == sorted(p.email for p in people)
    for mail in transport.sent:
        message = mail.message
        assert mail.sender == "news@example.org"
        assert message["From"] == "Microblog News <news@example.org>"
        assert message["Subject"] == "Microblog is two years old"
        files = {part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
                 for part in message.iter_attachments()}
        assert files == {PDF.filename: (PDF.content_type, PDF.data), NOTES.filename: (NOTES.content_type, NOTES.data)}
        body = message.get_body(("plain",))
        assert body is not None and "Thank you for being here." in body.get_content()
        html = message.get_body(("html",))
        assert html is not None
        assert '<a href="https://microblog.example/news"' in html.get_content()  # the text's address, linked
        user_id = int(mail.recipients[0].removeprefix("user").split("@")[0])
        assert message["List-Unsubscribe"] == f"<http://social.test/unsubscribe/{user_id}-announcements-token>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len({m.message["Message-ID"] for m in transport.sent}) == len(people)
    assert sender.run_once(transport) == 0  # nothing left


def test_events_in_any_order_and_twice_make_one_announcement(
        ledger: Ledger, intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    people = [profile(user_id=i, email=f"u{i}@example.org") for i in range(1, 5)]
    announced = announcement(people, files=[PDF], chunk_bytes=8_000, per_batch=2)
    for event in [*announced.batches, *announced.chunks[1:]]:
        intake.take(event)  # type: ignore[arg-type]
    assert sender.run_once(transport) == 0  # no text yet
    intake.take(announced.created)
    assert sender.run_once(transport) == 0  # a chunk still missing: nothing goes without all of it
    take_all(intake, announced)  # the rest, and everything again
    send_everything(sender, transport)
    assert len(transport.sent) == len(people)
    progress = ledger.announcements().progress(announced.announcement_id)
    assert progress is not None and progress.counts == {("sent", None): 4}


def test_consent_is_checked_against_the_newest_profile_when_the_mail_goes(
        ledger: Ledger, pipeline: Pipeline, intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    wants = profile(user_id=1, email="wants@example.org")
    unconfirmed = profile(user_id=2, email="new@example.org", confirmed=False)
    turned_off = profile(user_id=3, email="off@example.org")
    refused_before = profile(user_id=4, email="bounced@example.org")
    take_all(intake, announcement([wants, unconfirmed, turned_off, refused_before]))
    # Since social listed them: user 3 turned announcements off (a newer profile), user 4's address bounced.
    off = turned_off.model_copy(update={"version": 2, "preferences": MailPreferences(announcements=False)})
    pipeline.process(profile_changed(off).to_json_bytes(), transport, lambda _result: None)
    ledger.flush(5)
    with ledger.announcements().engine.begin() as conn:
        conn.execute(sa.insert(suppressions), {"address": "bounced@example.org", "user_id": 4, "reply": "550 gone",
                                               "suppressed_at": datetime(2026, 11, 30), "event_id": "e"})
    send_everything(sender, transport)
    assert [m.recipients for m in transport.sent] == [["wants@example.org"]]
    entries = {e["user_id"]: (e["outcome"], e["reason"]) for e in told(ledger)}
    assert entries == {1: ("sent", None), 2: ("skipped", "unconfirmed"), 3: ("skipped", "unsubscribed"),
                       4: ("skipped", "suppressed")}
    with ledger.announcements().engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(skips)
                            .where(skips.c.kind == "announcement")).scalar() == 3


def test_each_reader_gets_the_variant_and_the_layout_of_their_language(
        intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    people = [profile(user_id=1, email="en@example.org", locale="en"),
              profile(user_id=2, email="zh@example.org", locale="zh-Hans-CN"),
              profile(user_id=3, email="fr@example.org", locale="fr")]
    chinese = AnnouncementText(subject="Microblog 两周年", text="感谢你一直以来的陪伴。")
    take_all(intake, announcement(people, variants={"zh-CN": chinese}, files=[PDF]))
    send_everything(sender, transport)
    by_address = {m.recipients[0]: m.message for m in transport.sent}
    zh = by_address["zh@example.org"]
    assert zh["Subject"] == "Microblog 两周年"
    text = zh.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "感谢你一直以来的陪伴。" in text
    assert "本邮件附有 1 个文件" in text and "公告邮件" in text  # the layout's words, in Chinese too
    for other in ("en@example.org", "fr@example.org"):
        message = by_address[other]
        assert message["Subject"] == "Microblog is two years old"
        english = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Attached to this mail:" in english and "76.8 KB" in english


def test_a_cancel_sets_aside_everyone_not_yet_mailed(
        ledger: Ledger, intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    people = [profile(user_id=i, email=f"u{i}@example.org") for i in range(1, 61)]
    announced = announcement(people)
    take_all(intake, announced)
    assert sender.run_once(transport) == 20  # one claim went
    intake.take(announced.cancelled())
    send_everything(sender, transport)
    assert len(transport.sent) == 20
    progress = ledger.announcements().progress(announced.announcement_id)
    assert progress is not None
    assert progress.counts == {("sent", None): 20, ("skipped", "cancelled"): 40}
    intake.take(announcement(people).batches[0])  # recipients of another announcement are not touched
    assert {e["reason"] for e in told(ledger) if e["outcome"] == "skipped"} == {"cancelled"}


def test_a_cancel_that_comes_first_keeps_the_announcement_from_going(
        intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    announced = announcement([profile(user_id=1)])
    intake.take(announced.cancelled())
    take_all(intake, announced)
    send_everything(sender, transport)
    assert transport.sent == []


def test_a_refused_address_fails_is_suppressed_and_social_hears_of_the_bounce(
        ledger: Ledger, intake: Intake, sender: BulkSender) -> None:
    transport = FakeTransport(failures=[SmtpRecipientRefused("550 5.1.1 no such user")])
    take_all(intake, announcement([profile(user_id=1, email="gone@example.org"),
                                   profile(user_id=2, email="here@example.org")]))
    send_everything(sender, transport)
    assert [m.recipients for m in transport.sent] == [["here@example.org"]]
    entries = told(ledger)
    assert {(e.get("user_id"), e.get("outcome"), e.get("reason")) for e in entries if e["_kind"] == "entry"} == {
        (1, "failed", "recipient_refused"), (2, "sent", None)}
    bounce = [e for e in entries if e["_kind"] == "bounce"]
    assert bounce and bounce[0]["data"]["address"] == "gone@example.org"  # type: ignore[index]
    with ledger.announcements().engine.connect() as conn:
        assert conn.execute(sa.select(suppressions.c.address)).scalars().all() == ["gone@example.org"]


def test_an_smtp_server_that_is_down_loses_no_recipient(ledger: Ledger, intake: Intake, sender: BulkSender) -> None:
    transport = FakeTransport(failures=[SmtpUnavailable("421 try later")])
    announced = announcement([profile(user_id=i, email=f"u{i}@example.org") for i in range(1, 4)])
    take_all(intake, announced)
    with pytest.raises(SmtpDown):  # the sender's loop backs off and comes again
        sender.run_once(transport)

    send_everything(sender, transport)  # the server is back
    assert sorted(m.recipients[0] for m in transport.sent) == ["u1@example.org", "u2@example.org", "u3@example.org"]


def test_a_bad_attachment_fails_the_announcement_instead_of_mailing_it_broken(
        ledger: Ledger, intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    announced = announcement([profile(user_id=1)], files=[PDF], chunk_bytes=10_000)
    tampered = announced.chunks[0].data.model_copy(update={"data": announced.chunks[1].data.data})
    intake.take(announced.created)
    intake.take(announced.chunks[0].model_copy(update={"data": tampered}))
    for event in [*announced.chunks[1:], *announced.batches]:
        intake.take(event)  # type: ignore[arg-type]
    send_everything(sender, transport)
    assert transport.sent == []
    assert [(e["outcome"], e["reason"]) for e in told(ledger)] == [("failed", "bad_attachment")]


def test_recipients_held_by_one_replica_wait_for_its_lease_to_run_out(
        ledger: Ledger, pipeline: Pipeline, intake: Intake, clock: ManualClock) -> None:
    announced = announcement([profile(user_id=i, email=f"u{i}@example.org") for i in range(1, 4)])
    take_all(intake, announced)
    store = ledger.announcements()
    held = store.claim(announced.announcement_id, "replica-1", clock(), timedelta(minutes=2), 20)
    assert len(held) == 3  # replica 1 took them, then died
    other = bulk_sender(ledger, pipeline, clock, owner="replica-2")
    transport = FakeTransport()
    assert other.run_once(transport) == 0
    clock.advance(timedelta(minutes=3))
    send_everything(other, transport)
    assert len(transport.sent) == 3


def test_announcement_events_go_through_the_pipeline_into_the_tables(
        ledger: Ledger, pipeline: Pipeline, transport: FakeTransport) -> None:
    announced = announcement([profile(user_id=1)], files=[NOTES])
    results: list[Result] = []
    for event in announced.events:
        pipeline.process(event.to_json_bytes(), transport, results.append)
    assert {r.outcome for r in results} == {Outcome.NOTED}
    broken = announced.chunks[0].model_copy(
        update={"data": announced.chunks[0].data.model_copy(update={"data": "not base64!"})})
    pipeline.process(broken.to_json_bytes(), transport, results.append)
    assert results[-1].outcome is Outcome.DEAD and results[-1].failure is not None
    assert results[-1].failure.kind == "bad_attachment"
    assert transport.sent == []  # the pipeline only keeps them: the bulk senders send


class FixedClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_is_shared_by_every_replica_and_thread(ledger: Ledger) -> None:
    store = ledger.announcements()
    clock = FixedClock()
    replicas = [SharedRate(store, rate=20, clock=clock) for _ in range(2)]
    stop = threading.Event()
    starts = []
    for replica in replicas:  # each replica reserves a block of send times in turn
        first = store.take_slots(replica.name, replica.rate, replica.block, clock())
        starts.append(first)
    assert replicas[0].block == 5
    assert starts == [clock.now, clock.now + 5 / 20]  # the second block follows the first
    clock.now += 60  # an idle minute earns no burst: the next block starts now, not in the past
    assert store.take_slots("bulk", 20, 5, clock()) == clock.now
    clock.now += 100
    replicas[0].wait_turn(stop)  # a fresh block, its first time is now: no wait


def test_bulk_mail_waits_while_every_worker_is_busy_with_urgent_mail() -> None:
    urgent = UrgentWork(workers=2)
    stop = threading.Event()
    waited = threading.Event()
    with urgent.held(), urgent.held():
        waiter = threading.Thread(target=lambda: (urgent.wait_for_room(stop), waited.set()))
        waiter.start()
        assert not waited.wait(0.3)  # both workers busy: bulk waits
    assert waited.wait(5)  # a worker free: bulk goes
    waiter.join()
    with urgent.held():
        urgent.wait_for_room(stop)  # one of two busy: no wait


def test_a_parsed_mail_has_the_structure_clients_expect(
        intake: Intake, sender: BulkSender, transport: FakeTransport) -> None:
    take_all(intake, announcement([profile(user_id=1)], files=[NOTES]))
    send_everything(sender, transport)
    message = email.message_from_bytes(transport.sent[0].raw, policy=email.policy.default)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/plain"]
    assert message["Auto-Submitted"] == "auto-generated"
