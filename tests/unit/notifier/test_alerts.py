"""Dead-letter alerts to the ADMINS: a burst is one mail, and then at most one mail per interval."""

from __future__ import annotations

from datetime import timedelta

from notifier.alerts import GATHER_SECONDS, DeadLetterAlerts
from notifier.errors import SmtpUnavailable
from notifier.mime import Sender

from tests.support.fakes import FakeTransport


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def alerts(transport: FakeTransport, clock: Clock, admins: list[str] | None = None) -> DeadLetterAlerts:
    return DeadLetterAlerts(admins=["ops@example.com"] if admins is None else admins,
                            sender=Sender.parse("notifier@example.com"), transport_factory=lambda: transport,
                            interval=timedelta(minutes=15), queue_name="q.dead", clock=clock)


def test_a_burst_of_dead_letters_is_told_in_one_mail_after_a_short_gathering() -> None:
    transport, clock = FakeTransport(), Clock()
    told = alerts(transport, clock)
    for kind in ("smtp_unavailable", "smtp_unavailable", "unreadable.not_json"):
        told.record(kind)
    assert not told.send()  # still gathering
    clock.now += GATHER_SECONDS
    assert told.send()
    (mail,) = transport.sent
    assert mail.message["Subject"] == "[microblog] 3 notification(s) dead-lettered"
    body = mail.message.get_content()
    assert "2  smtp_unavailable" in body
    assert "1  unreadable.not_json" in body


def test_after_an_alert_the_next_waits_for_the_interval() -> None:
    transport, clock = FakeTransport(), Clock()
    told = alerts(transport, clock)
    told.record("smtp_unavailable")
    clock.now += GATHER_SECONDS
    assert told.send()
    told.record("recipient_refused")
    clock.now += GATHER_SECONDS
    assert not told.send()
    clock.now += 15 * 60
    assert told.send()
    assert len(transport.sent) == 2


def test_an_alert_that_cannot_go_keeps_its_counts_for_the_next_one() -> None:
    transport, clock = FakeTransport(failures=[SmtpUnavailable("down")]), Clock()
    told = alerts(transport, clock)
    told.record("smtp_unavailable")
    clock.now += GATHER_SECONDS
    assert not told.send()
    assert told.pending == 1
    clock.now += 15 * 60
    assert told.send()
    assert "1  smtp_unavailable" in transport.sent[0].message.get_content()


def test_stopping_tells_what_is_counted_at_once() -> None:
    transport, clock = FakeTransport(), Clock()
    told = alerts(transport, clock)
    told.start()
    told.record("smtp_unavailable")
    told.stop()
    assert len(transport.sent) == 1


def test_without_admins_dead_letters_are_only_logged() -> None:
    transport, clock = FakeTransport(), Clock()
    told = alerts(transport, clock, admins=[])
    told.record("smtp_unavailable")
    clock.now += GATHER_SECONDS
    assert not told.send()
    assert told.pending == 0
    assert transport.sent == []
