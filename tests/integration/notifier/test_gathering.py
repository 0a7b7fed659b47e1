"""Follow notices that wait and go gathered, through the pipeline and the scheduler on a real
database, with the clock in the test's hands (never slept)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from microblog_contracts import MailPreferences, NoticeMode, QuietHours, UserUnfollowed, UserUnfollowedData
from notifier.bootstrap import build_ledger, build_pipeline, build_scheduler
from notifier.gathering.scheduler import Scheduler
from notifier.ledger import Ledger
from notifier.pipeline import Outcome, Pipeline, Result
from notifier.settings import NotifierSettings

from tests.support.events import profile, user_followed
from tests.support.fakes import FakeTransport, ManualClock

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class Rig:
    """A notifier's pipeline and scheduler on one ledger, a fake SMTP transport and a manual clock."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.clock = ManualClock(T0)
        self.transport = FakeTransport()
        self.settings = NotifierSettings(admins=["admin@example.com"], notifier_database_url=database_url,
                                         notifier_ledger_commit_interval=0.005, **settings)
        self.ledger: Ledger = build_ledger(self.settings)
        self.ledger.start()
        self.pipeline: Pipeline = build_pipeline(self.settings, self.ledger, clock=self.clock)
        self.scheduler: Scheduler = self.new_scheduler()

    def new_scheduler(self) -> Scheduler:
        return build_scheduler(self.settings, self.ledger, self.pipeline, transport_factory=lambda: self.transport,
                               tell=False, clock=self.clock)

    def feed(self, *events: Any) -> list[Result]:
        results: list[Result] = []
        for event in events:
            self.pipeline.process(event.to_json_bytes(), self.transport, results.append)
        assert self.ledger.flush(10)
        return results

    def at(self, moment: datetime) -> int:
        """Move the clock to `moment` and let the scheduler work; returns the mails sent so far."""
        self.clock.now = moment
        while self.scheduler.run_once():
            pass
        return len(self.transport.sent)

    def subjects(self) -> list[str]:
        return [str(m.message["Subject"]) for m in self.transport.sent]

    def close(self) -> None:
        self.ledger.stop()
        self.ledger.dispose()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield made
    made.close()


def follow(n: int, at: datetime, **recipient: Any) -> Any:
    return user_followed(follower_id=1000 + n, follower=f"f{n}", at=at,
                         followed_profile=profile(**recipient) if recipient else None)


def unfollow(n: int, at: datetime, followed_id: int = 100_000) -> UserUnfollowed:
    return UserUnfollowed(time=at, data=UserUnfollowedData(follower_id=1000 + n, followed_id=followed_id,
                                                           unfollowed_at=at))


def test_a_notice_waits_the_grace_and_an_undone_follow_is_never_mailed(rig: Rig) -> None:
    assert [r.outcome for r in rig.feed(follow(1, T0))] == [Outcome.HELD]
    rig.feed(unfollow(1, T0 + timedelta(seconds=20)))
    assert rig.at(T0 + timedelta(seconds=59)) == 0
    assert rig.at(T0 + timedelta(seconds=61)) == 0
    (skip,) = rig.ledger.skipped(reason="follow_undone")
    assert skip.detail == "the follow was undone"


def test_follow_unfollow_and_follow_again_inside_the_grace_is_one_notice_at_most(rig: Rig) -> None:
    rig.feed(follow(1, T0), unfollow(1, T0 + timedelta(seconds=5)), follow(1, T0 + timedelta(seconds=10)))
    assert rig.at(T0 + timedelta(minutes=20)) == 1
    assert rig.subjects() == ["[microblog] f1 is now following you!"]


def test_a_burst_of_50_follows_is_two_mails_the_first_after_the_grace_then_the_rest_named_and_counted(
        rig: Rig) -> None:
    rig.feed(*(follow(n, T0 + timedelta(seconds=n)) for n in range(50)))
    assert rig.at(T0 + timedelta(seconds=59)) == 0
    assert rig.at(T0 + timedelta(seconds=60)) == 1  # the first follow, alone, after its grace
    assert rig.at(T0 + timedelta(minutes=10)) == 1  # the window is open: the rest gather
    assert rig.at(T0 + timedelta(seconds=60) + timedelta(minutes=15)) == 2
    first, gathered = rig.transport.sent
    assert first.message["Subject"] == "[microblog] f0 is now following you!"
    assert gathered.message["Subject"] == "[microblog] f1, f2 and 47 others are now following you"
    text = gathered.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "49 people are now following you" in text
    assert "http://social.test/user/f3" in text and "and 46 others" in text
    assert gathered.message["Message-ID"].startswith("<batch-")
    assert gathered.message["List-Unsubscribe"] is not None
    assert rig.at(T0 + timedelta(hours=2)) == 2  # nothing more


def test_a_replay_of_follows_already_gathered_or_sent_sends_nothing_new(rig: Rig) -> None:
    events = [follow(n, T0 + timedelta(seconds=n)) for n in range(3)]
    rig.feed(*events)
    rig.at(T0 + timedelta(hours=1))
    sent = len(rig.transport.sent)
    assert {r.outcome for r in rig.feed(*events)} == {Outcome.DUPLICATE}
    assert rig.at(T0 + timedelta(hours=3)) == sent


def test_immediately_is_one_mail_per_follow_after_its_grace(tmp_path: Path) -> None:
    rig = Rig(f"sqlite:///{tmp_path / 'ledger.db'}", follow_notice_default="immediately")
    try:
        rig.feed(*(follow(n, T0 + timedelta(seconds=10 * n)) for n in range(3)))
        assert rig.at(T0 + timedelta(seconds=65)) == 1
        assert rig.at(T0 + timedelta(seconds=85)) == 3
    finally:
        rig.close()


def test_a_daily_digest_goes_at_the_users_hour_in_their_zone(rig: Rig) -> None:
    shanghai = {"time_zone": "Asia/Shanghai", "preferences": MailPreferences(follow_notices=NoticeMode.DAILY,
                                                                            digest_hour=8)}
    # 10:00 UTC is 18:00 in Shanghai: the next 08:00 there is 00:00 UTC the next day.
    rig.feed(*(follow(n, T0 + timedelta(minutes=n), **shanghai) for n in range(3)))
    assert rig.at(datetime(2026, 12, 1, 23, 59, tzinfo=UTC)) == 0
    assert rig.at(datetime(2026, 12, 2, 0, 0, tzinfo=UTC)) == 1
    assert rig.subjects() == ["[microblog] Your daily digest: 3 new followers"]


def test_quiet_hours_hold_notices_and_release_them_gathered_when_they_end(tmp_path: Path) -> None:
    rig = Rig(f"sqlite:///{tmp_path / 'ledger.db'}", follow_notice_default="immediately")
    quiet = {"preferences": MailPreferences(quiet_hours=QuietHours(start="22:00", end="07:00"))}
    night = datetime(2026, 12, 1, 21, 59, 30, tzinfo=UTC)
    try:
        rig.feed(follow(1, night, **quiet), follow(2, night + timedelta(minutes=20), **quiet),
                 follow(3, night + timedelta(hours=2), **quiet))
        assert rig.at(datetime(2026, 12, 1, 22, 5, tzinfo=UTC)) == 0
        assert rig.at(datetime(2026, 12, 2, 6, 59, tzinfo=UTC)) == 0
        assert rig.at(datetime(2026, 12, 2, 7, 0, tzinfo=UTC)) == 1
        assert rig.subjects() == ["[microblog] f1, f2 and 1 other are now following you"]
    finally:
        rig.close()


def test_over_the_daily_cap_notices_move_into_the_next_digest_instead_of_being_dropped(tmp_path: Path) -> None:
    rig = Rig(f"sqlite:///{tmp_path / 'ledger.db'}", follow_notice_default="immediately", notifier_daily_cap=2)
    try:
        rig.feed(*(follow(n, T0 + timedelta(seconds=n)) for n in range(5)))
        assert rig.at(T0 + timedelta(minutes=5)) == 2
        assert len(rig.ledger.skipped(reason="daily_cap")) == 3
        assert rig.at(datetime(2026, 12, 2, 8, 0, tzinfo=UTC)) == 3  # the default digest hour, 08:00 UTC
        assert rig.subjects()[-1] == "[microblog] Your daily digest: 3 new followers"
    finally:
        rig.close()


def test_a_user_who_turns_notices_off_while_40_wait_gets_nothing(rig: Rig) -> None:
    from tests.support.events import profile_changed

    rig.feed(*(follow(n, T0 + timedelta(seconds=n), version=1) for n in range(40)))
    rig.feed(profile_changed(profile(version=2, follow_notices=NoticeMode.OFF)))
    assert rig.at(T0 + timedelta(hours=1)) == 0
    assert len(rig.ledger.skipped(reason="unsubscribed")) == 40


def test_a_crash_between_sending_and_recording_repeats_the_same_message_id(rig: Rig) -> None:
    rig.feed(*(follow(n, T0 + timedelta(seconds=n)) for n in range(3)))
    rig.at(T0 + timedelta(seconds=60))
    dying = rig.scheduler
    original = dying.gathering.sent

    def crash(*_: object, **__: object) -> None:
        raise SystemExit("killed after the SMTP server accepted the mail")

    dying.gathering.sent = crash  # type: ignore[method-assign]
    rig.clock.now = T0 + timedelta(minutes=17)
    with pytest.raises(SystemExit):
        dying.run_once()
    dying.gathering.sent = original  # type: ignore[method-assign]
    rig.scheduler = rig.new_scheduler()  # another replica, once the lease runs out
    assert rig.at(T0 + timedelta(minutes=17, seconds=30)) == 2  # the lease still holds
    assert rig.at(T0 + timedelta(minutes=19)) == 3
    assert rig.transport.sent[1].message["Message-ID"] == rig.transport.sent[2].message["Message-ID"]


def test_two_replicas_on_postgresql_never_both_send_one_batch(postgres_url: str) -> None:
    rig = Rig(postgres_url)
    try:
        rig.feed(*(follow(n, T0 + timedelta(seconds=n % 7), user_id=200_000 + n // 4,
                          email=f"user{n // 4}@example.com") for n in range(400)))
        rig.clock.now = T0 + timedelta(minutes=30)
        replicas = [rig.new_scheduler() for _ in range(2)]
        done = threading.Barrier(2)

        def work(scheduler: Scheduler) -> None:
            done.wait(10)
            while scheduler.run_once():
                pass

        threads = [threading.Thread(target=work, args=(s,)) for s in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        per_recipient = Counter(m.recipients[0] for m in rig.transport.sent)
        assert len(per_recipient) == 100
        # each recipient: the first follow after its grace, then the other three gathered
        assert set(per_recipient.values()) <= {1, 2}
        ids = Counter(str(m.message["Message-ID"]) for m in rig.transport.sent)
        assert max(ids.values()) == 1
    finally:
        rig.close()


def test_the_skipped_list_shows_each_gathered_notice_merged_into_its_mail(rig: Rig) -> None:
    rig.feed(*(follow(n, T0 + timedelta(seconds=n)) for n in range(4)))
    rig.at(T0 + timedelta(seconds=60))
    rig.at(T0 + timedelta(minutes=30))
    merged = rig.ledger.skipped(reason="merged")
    assert len(merged) == 3  # the first went alone, the other three together
    assert all(s.detail and s.detail.startswith("merged into the mail of 2026-12-01T10:30") for s in merged)
