"""The SMTP concurrency limit: slow start, halving on push-back, a remembered limit, idle sessions
handing their places back. Pure, with a clock moved by hand."""

from __future__ import annotations

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


def take(concurrency: Concurrency, mails: int, *, backlog: bool = True) -> None:
    for _ in range(mails):
        concurrency.succeeded(backlog=backlog)


def test_it_starts_with_a_few_sessions_and_doubles_each_round_while_work_waits() -> None:
    concurrency = limit_for(ManualClock())
    assert concurrency.limit == INITIAL
    take(concurrency, INITIAL)
    assert concurrency.limit == 2 * INITIAL
    take(concurrency, 2 * INITIAL)
    assert concurrency.limit == 4 * INITIAL


def test_it_never_grows_past_the_ceiling() -> None:
    concurrency = limit_for(ManualClock(), ceiling=10)
    take(concurrency, 1000)
    assert concurrency.limit == 10


def test_it_does_not_grow_while_nothing_waits() -> None:
    concurrency = limit_for(ManualClock())
    take(concurrency, 100, backlog=False)
    assert concurrency.limit == INITIAL


def test_a_ceiling_below_the_start_is_the_start() -> None:
    assert limit_for(ManualClock(), ceiling=2).limit == 2


def test_push_back_halves_the_limit_once_for_the_sends_that_started_together() -> None:
    concurrency = limit_for(ManualClock())
    take(concurrency, 12)
    assert concurrency.limit == 16
    tickets = [concurrency.ticket() for _ in range(3)]
    assert all(concurrency.congested(t) for t in tickets)  # each may have been crowded out: retry at once
    assert concurrency.limit == 8


def test_the_count_that_drew_push_back_is_not_tried_again_until_the_probe_time() -> None:
    clock = ManualClock()
    concurrency = limit_for(clock)
    take(concurrency, 2)
    assert concurrency.limit == 6
    concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 3
    take(concurrency, 1000)
    assert concurrency.limit == 5  # grown back under the 6 that drew the 421, and no further
    clock.advance(timedelta(seconds=PROBE_AFTER + 1))
    take(concurrency, 1000)
    assert concurrency.limit > 6  # probing past it again, one session a round


def test_push_back_while_nothing_gets_through_is_an_outage_not_a_limit_to_remember() -> None:
    concurrency = limit_for(ManualClock())
    take(concurrency, 12)
    for _ in range(6):  # the server is down: every session refused, none taken
        concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 1
    take(concurrency, 1000)  # back: it grows (a round at a time) past the counts refused while it was down,
    assert concurrency.limit == 15  # up to under the 16 whose push-back came while mail got through


def test_after_push_back_it_grows_by_one_a_round_not_one_a_mail() -> None:
    concurrency = limit_for(ManualClock())
    take(concurrency, 12)
    concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 8
    take(concurrency, 7)
    assert concurrency.limit == 8
    take(concurrency, 2)
    assert concurrency.limit == 9


def test_it_settles_under_a_server_that_refuses_sessions_above_n() -> None:
    """A simulated server: a round of sends at the limit, a push-back when the limit is above N."""
    clock = ManualClock()
    concurrency = limit_for(clock)
    n, limits = 5, []
    for _ in range(200):
        clock.advance(timedelta(milliseconds=200))
        ticket = concurrency.ticket()
        if ticket.limit > n:
            concurrency.congested(ticket)
        else:
            take(concurrency, ticket.limit)
        limits.append(concurrency.limit)
    assert limits[-100:] == [n] * 100


def test_it_never_goes_below_one_and_a_lone_session_pushed_back_is_not_retried_at_once() -> None:
    concurrency = limit_for(ManualClock())
    for _ in range(10):
        concurrency.congested(concurrency.ticket())
    assert concurrency.limit == 1
    assert not concurrency.congested(concurrency.ticket())  # the server is down, not crowded: retry later
    assert concurrency.limit == 1


def test_the_topmost_idle_session_hands_its_place_back_down_to_the_start() -> None:
    concurrency = limit_for(ManualClock())
    take(concurrency, 4)
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
    take(concurrency, 10)
    assert concurrency.limit == 12


def test_a_worker_above_the_limit_waits_for_it_to_grow() -> None:
    concurrency = limit_for(ManualClock())
    closing, through = threading.Event(), threading.Event()

    def worker() -> None:
        concurrency.wait_turn(INITIAL, closing)
        through.set()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert not through.wait(0.2)
    assert not concurrency.may_send(INITIAL)
    concurrency.succeeded(backlog=True)
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
    concurrency = limit_for(ManualClock())
    inner = FakeTransport(failures=[SmtpCongested("421 too many connections")])
    watched = WatchedTransport(inner, concurrency, backlog=lambda: True)
    take(concurrency, 4)
    with pytest.raises(SmtpCongested):
        watched.send("a@example.com", ["b@example.com"], b"x")
    assert watched.crowded
    assert concurrency.limit == 4  # halved from 8
    for _ in range(5):  # a round of mails taken while work waits: one session more
        watched.send("a@example.com", ["b@example.com"], b"x")
    assert concurrency.limit == 5
    assert len(inner.sent) == 5
