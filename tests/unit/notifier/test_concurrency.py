"""The SMTP concurrency limit: slow start, halving on push-back, a remembered limit, idle sessions
handing their places back. Pure, with a clock moved by hand."""

from __future__ import annotations

import math
import smtplib
import socket
import threading
from datetime import timedelta

import pytest
from notifier.concurrency import INITIAL, PROBE_AFTER, Concurrency, WatchedTransport
from notifier.errors import SmtpCongested, SmtpUnavailable
from notifier.transport import translate

from tests.support.fakes import FakeTransport, ManualClock


def limit_for(clock: ManualClock, ceiling: int = 64, **kwargs: object) -> Concurrency:
    return Concurrency(ceiling, clock=clock.seconds, **kwargs)  # type: ignore[arg-type]


def serve(concurrency: Concurrency, clock: ManualClock, slices: int, *, per_session: float = 5.0,
          most: float = math.inf, refuse_above: int | None = None, backlog: bool = True) -> list[int]:
    """A server for `slices` tenths of a second: it takes `per_session` mails a second from each
    session (200 ms a mail), at most `most` a second in all, and answers 421 to a session above
    `refuse_above`. Returns the limit after each slice."""
    limits, owed = [], 0.0
    for _ in range(slices):
        ticket = concurrency.ticket()
        if refuse_above is not None and ticket.limit > refuse_above:
            concurrency.congested(ticket)
        owed += min(ticket.limit * per_session, most) * 0.1
        mails = int(owed)
        owed -= mails
        for _ in range(mails):  # spread over the slice, as sessions out of step send
            clock.advance(timedelta(seconds=0.1 / mails))
            concurrency.succeeded(backlog=backlog)
        if not mails:
            clock.advance(timedelta(seconds=0.1))
        limits.append(concurrency.limit)
    return limits


def distinct(limits: list[int]) -> list[int]:
    return [limit for i, limit in enumerate(limits) if i == 0 or limits[i - 1] != limit]


def test_it_starts_with_a_few_sessions_and_doubles_while_work_waits_and_mail_goes_faster() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    assert concurrency.limit == INITIAL
    limits = serve(concurrency, clock, 30)
    assert distinct([INITIAL, *limits]) == [4, 8, 16, 32, 64]


def test_it_never_grows_past_the_ceiling() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock, ceiling=10)
    assert distinct(serve(concurrency, clock, 50)) == [4, 8, 10]


def test_it_does_not_grow_while_nothing_waits() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    assert set(serve(concurrency, clock, 50, backlog=False)) == {INITIAL}


def test_a_ceiling_below_the_start_is_the_start() -> None:
    assert limit_for(ManualClock(), ceiling=2).limit == 2


def test_more_sessions_that_send_no_faster_are_given_back_and_not_tried_again_for_a_while() -> None:
    """A fast server and this process's CPU: 2,000 mails a second, however many sessions."""
    clock = ManualClock()
    concurrency = limit_for(clock)
    limits = serve(concurrency, clock, 20, per_session=10_000, most=2_000)
    assert distinct([INITIAL, *limits]) == [4, 8, 4]
    assert set(serve(concurrency, clock, int(PROBE_AFTER * 10) - 20, per_session=10_000, most=2_000)) == {4}
    assert 8 in serve(concurrency, clock, 20, per_session=10_000, most=2_000)  # tried again, then back
    assert concurrency.limit == 4


def test_push_back_halves_the_limit_once_for_the_sends_that_started_together() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    serve(concurrency, clock, 8)
    assert concurrency.limit == 16
    tickets = [concurrency.ticket() for _ in range(3)]
    assert all(concurrency.congested(t) for t in tickets)  # each may have been crowded out: retry at once
    assert concurrency.limit == 8


def test_the_count_that_drew_push_back_is_not_tried_again_until_the_probe_time() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock, ceiling=6)
    serve(concurrency, clock, 10)
    assert concurrency.limit == 6
    concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 3
    assert distinct(serve(concurrency, clock, 100)) == [3, 4, 5]  # one a step, under the 6 that drew the 421
    clock.advance(timedelta(seconds=PROBE_AFTER))
    serve(concurrency, clock, 10)
    assert concurrency.limit == 6


def test_it_settles_under_a_server_that_refuses_sessions_above_n() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    limits = serve(concurrency, clock, 300, refuse_above=10)
    assert max(limits[50:]) <= 10
    assert limits[-100:] == [10] * 100


def test_it_never_goes_below_one_and_a_lone_session_pushed_back_is_not_retried_at_once() -> None:
    concurrency = limit_for(ManualClock())
    for _ in range(10):
        concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 1
    assert not concurrency.congested(concurrency.ticket())  # the server is down, not crowded: retry later
    assert concurrency.limit == 1


def test_push_back_while_nothing_gets_through_is_an_outage_not_a_limit_to_remember() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    serve(concurrency, clock, 8)
    assert concurrency.limit == 16
    for _ in range(6):  # the server is down: every session refused, none taken
        concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 1
    serve(concurrency, clock, 200)  # back: it grows (a session a step) past the counts refused meanwhile,
    assert concurrency.limit == 15  # up to under the 16 whose push-back came while mail got through


def test_the_topmost_idle_session_hands_its_place_back_down_to_the_start() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    serve(concurrency, clock, 4)
    assert concurrency.limit == 8
    assert not concurrency.idle(3)  # not the topmost: keeps its place
    assert concurrency.limit == 8
    assert concurrency.idle(7)
    assert concurrency.limit == 7
    for worker in (6, 5, 4, 3):
        concurrency.idle(worker)
    assert concurrency.limit == INITIAL


def test_a_fixed_concurrency_is_the_ceiling_whatever_happens() -> None:
    concurrency = limit_for(ManualClock(), ceiling=12, adaptive=False)
    assert concurrency.limit == 12
    assert not concurrency.congested(concurrency.ticket())
    assert not concurrency.idle(11)
    clock = ManualClock()
    assert set(serve(Concurrency(12, adaptive=False, clock=clock.seconds), clock, 30)) == {12}


def test_a_worker_above_the_limit_waits_for_it_to_grow() -> None:
    closing, through = threading.Event(), threading.Event()

    def worker() -> None:
        concurrency.wait_turn(INITIAL, closing)
        through.set()

    clock = ManualClock()
    concurrency = limit_for(clock)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert not through.wait(0.2)
    assert not concurrency.may_send(INITIAL)
    serve(concurrency, clock, 10)
    assert through.wait(10)
    thread.join(10)


def test_closing_releases_the_waiting_workers() -> None:
    concurrency = limit_for(ManualClock())
    closing = threading.Event()
    thread = threading.Thread(target=concurrency.wait_turn, args=(40, closing), daemon=True)
    thread.start()
    closing.set()
    concurrency.wake_all()
    thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPConnectError(421, b"4.7.0 too many connections"),
        smtplib.SMTPSenderRefused(421, b"4.3.2 shutting down", "a@example.com"),
        smtplib.SMTPDataError(421, b"closing"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    ],
)
def test_push_back_from_the_server_is_named_congestion(error: BaseException) -> None:
    assert isinstance(translate(error), SmtpCongested)


@pytest.mark.parametrize(
    "error",
    [smtplib.SMTPDataError(451, b"try again later"), smtplib.SMTPSenderRefused(450, b"busy", "a@example.com"),
     socket.gaierror(-2, "Name or service not known")],
)
def test_other_transient_failures_are_not_congestion(error: BaseException) -> None:
    failure = translate(error)
    assert isinstance(failure, SmtpUnavailable)
    assert not isinstance(failure, SmtpCongested)


def test_a_watched_session_reports_mails_taken_and_push_back() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    serve(concurrency, clock, 4)
    assert concurrency.limit == 8
    inner = FakeTransport(failures=[SmtpCongested("421 too many connections")])
    watched = WatchedTransport(inner, concurrency, backlog=lambda: True)
    with pytest.raises(SmtpCongested):
        watched.send("a@example.com", ["b@example.com"], b"x")
    assert watched.crowded
    assert concurrency.limit == 4  # halved
    for _ in range(8):  # a step's mails, taken while work waits: one session more
        clock.advance(timedelta(seconds=0.05))
        watched.send("a@example.com", ["b@example.com"], b"x")
    assert concurrency.limit == 5
    assert len(inner.sent) == 8
