"""How far an announcement went (`status`, from the mail history the inbox keeps), calling it off
(`cancel`), watching it until it is over, and how a user's mail history shows it."""

from __future__ import annotations

import html
import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from microblog_contracts import ANNOUNCEMENT_CANCELLED, AnnouncementCancelled
from social.announcements import watching
from social.announcements.model import Announcement
from social.announcements.progress import Progress
from social.announcements.sending import cancel
from social.cli import main as social_cli
from social.dbtypes import utcnow
from social.extensions import db
from social.mail.words import kind_words, reason_words
from sqlalchemy import select

from tests.support.social_announce import add_users, report_mail, write
from tests.support.social_app import log_in, make_user, recorded_events
from tests.support.wait import wait_for


def social(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(social_cli, ["announce", *args], obj=ScriptInfo(create_app=lambda: app))


def announced(app: Flask, tmp_path: Path, *more: str) -> str:
    result = social(app, "--subject", "Microblog news", "--text", write(tmp_path / "news.txt", "Hello"),
                    "--attach", write(tmp_path / "报告 2026.pdf", b"%PDF"), *more, "--detach")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_status_counts_sent_skipped_and_failed_by_reason_and_what_remains(app: Flask, tmp_path: Path) -> None:
    users = add_users(6)
    announcement_id = announced(app, tmp_path)
    report_mail(announcement_id, users[:2])
    report_mail(announcement_id, users[2:4], "skipped", "unsubscribed")
    report_mail(announcement_id, users[4:5], "failed", "recipient_refused")
    report_mail("another-event", users[5:], "sent")  # another mail of the same user counts for nothing here

    result = social(app, "status", announcement_id)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"announcement  {announcement_id}"
    assert lines[1] == "subject       Microblog news"
    assert lines[2].startswith("created       ") and lines[2].endswith(" UTC by " + lines[2].rsplit(" by ", 1)[1])
    assert lines[3:] == [
        "attachment    报告 2026.pdf (application/pdf, 4 bytes)",
        "recipients    6",
        "sent          2",
        "skipped       2 (unsubscribed 2)",
        "failed        1 (recipient_refused 1)",
        "remaining     1",
    ]


def test_status_as_json_for_scripts(app: Flask, tmp_path: Path) -> None:
    users = add_users(3)
    announcement_id = announced(app, tmp_path)
    report_mail(announcement_id, users[:1])
    report_mail(announcement_id, users[1:2], "skipped", None)

    shown = json.loads(social(app, "status", announcement_id, "--json").stdout)

    assert {k: shown[k] for k in ("id", "subject", "recipients", "sent", "skipped", "failed", "remaining", "done",
                                  "cancelled_at")} == {
        "id": announcement_id, "subject": "Microblog news", "recipients": 3, "sent": 1, "skipped": {"unknown": 1},
        "failed": {}, "remaining": 1, "done": False, "cancelled_at": None}
    assert shown["attachments"][0]["filename"] == "报告 2026.pdf"


def test_an_unknown_announcement_is_said_to_be_unknown(app: Flask) -> None:
    for command in ("status", "cancel"):
        result = social(app, command, "no-such-id")
        assert result.exit_code == 1
        assert "social announce: no announcement has the id 'no-such-id'" in result.stderr


def test_cancel_writes_the_event_says_how_many_went_and_refuses_a_second_time(app: Flask, tmp_path: Path) -> None:
    users = add_users(3)
    announcement_id = announced(app, tmp_path)
    report_mail(announcement_id, users[:1])

    result = social(app, "cancel", announcement_id)

    assert result.exit_code == 0, result.output
    assert f"cancelled announcement {announcement_id}: 1 of 3 recipient(s) had been mailed" in result.stdout
    [cancelled] = recorded_events(ANNOUNCEMENT_CANCELLED)
    assert isinstance(cancelled, AnnouncementCancelled)
    assert cancelled.data.announcement_id == announcement_id
    assert db.session.get(Announcement, announcement_id, populate_existing=True).cancelled_at == (
        cancelled.data.cancelled_at)
    assert social(app, "status", announcement_id).stdout.splitlines()[-1].startswith("cancelled     ")

    again = social(app, "cancel", announcement_id)
    assert again.exit_code == 1
    assert "was cancelled already at " in again.stderr
    assert len(recorded_events(ANNOUNCEMENT_CANCELLED)) == 1


@pytest.fixture
def notifier(app: Flask) -> Iterator[list[tuple[str, str | None]]]:
    """A stand-in for the notifier and the relay's inbox: once an announcement is written, it
    reports each of the `outcomes` (in turn, for the recipients in id order) into the mail history;
    the outcome `("cancel", None)` is an operator cancelling it instead."""
    outcomes: list[tuple[str, str | None]] = []
    done = threading.Event()

    def report() -> None:
        with app.app_context():
            def written() -> str | None:
                with db.engine.connect() as conn:
                    return conn.scalar(select(Announcement.id))
            announcement_id = wait_for(written, what="an announcement", timeout=10)
            with db.engine.connect() as conn:
                recipients = list(conn.scalars(select(db.metadata.tables["users"].c.id).order_by("id")))
            for user_id, (outcome, reason) in zip(recipients, outcomes, strict=False):
                if outcome == "cancel":
                    cancel(announcement_id, now=utcnow())
                else:
                    report_mail(announcement_id, [user_id], outcome, reason)
        done.set()

    thread = threading.Thread(target=report, daemon=True)
    thread.start()
    yield outcomes
    thread.join(timeout=15)
    assert done.is_set()


def test_watching_ends_once_every_recipient_is_reported(
    app: Flask, tmp_path: Path, notifier: list[tuple[str, str | None]]
) -> None:
    add_users(3)
    notifier.extend([("sent", None), ("skipped", "unsubscribed"), ("sent", None)])

    result = social(app, "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"), "--poll-interval", "0.02")

    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1  # the id, alone
    err = result.stderr.splitlines()
    assert err[-2] == "sent 2, skipped 1, failed 0, remaining 0 of 3"
    assert err[-1] == "done: 2 sent, 1 skipped (unsubscribed 1), 0 failed"
    assert "\x1b" not in result.stderr and "\r" not in result.stderr  # not a terminal: plain lines


def test_watching_ends_when_the_announcement_is_cancelled_meanwhile(
    app: Flask, tmp_path: Path, notifier: list[tuple[str, str | None]]
) -> None:
    add_users(3)
    notifier.extend([("sent", None), ("cancel", None)])

    result = social(app, "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"), "--poll-interval", "0.02")

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith("cancelled at ")


def test_status_watch_ends_when_the_announcement_is_cancelled(app: Flask, tmp_path: Path) -> None:
    users = add_users(2)
    announcement_id = announced(app, tmp_path)
    report_mail(announcement_id, users[:1])
    db.session.get(Announcement, announcement_id).cancelled_at = utcnow()
    db.session.commit()

    result = social(app, "status", announcement_id, "--watch", "--poll-interval", "0.02")

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].startswith("cancelled at ")
    assert result.stderr.splitlines()[-1].endswith(": 1 sent; the rest will not be")


def test_ctrl_c_stops_the_watching_only_and_says_how_to_watch_again(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_users(1)

    def interrupted(*_args: object, **_kwargs: object) -> Progress:
        raise KeyboardInterrupt

    monkeypatch.setattr("social.cli.announce.watch", interrupted)
    result = social(app, "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"))

    assert result.exit_code == 130
    announcement_id = result.stdout.strip()
    assert "stopped watching; the announcement goes on" in result.stderr
    assert f"social announce status {announcement_id} --watch" in result.stderr
    assert db.session.get(Announcement, announcement_id) is not None


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _progresses(announcement: Announcement, sent: list[int]) -> Iterator[Progress]:
    yield from (Progress(announcement, sent=n) for n in sent)


def test_without_a_terminal_a_plain_line_goes_out_every_few_seconds_and_at_the_end() -> None:
    announcement = Announcement(id="a", subject="s", recipients=10, recipient_batches=1, created_at=utcnow(),
                                variant_subjects={}, attachments=[])
    reads = _progresses(announcement, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    clock, out = _Clock(), io.StringIO()

    last = watching.watch(lambda: next(reads), out=out, interactive=False, interval=2.0, sleep=clock.sleep,
                          clock=clock)

    assert last.remaining == 0
    sent = [line.split(",")[0] for line in out.getvalue().splitlines()]
    assert sent == ["sent 0", "sent 3", "sent 6", "sent 9", "sent 10"]  # every 5 s of 2 s polls, and the last


def test_on_a_terminal_the_bar_runs_to_the_end() -> None:
    announcement = Announcement(id="a", subject="s", recipients=4, recipient_batches=1, created_at=utcnow(),
                                variant_subjects={}, attachments=[])
    reads = _progresses(announcement, [0, 2, 4])
    out = io.StringIO()

    last = watching.watch(lambda: next(reads), out=out, interactive=True, interval=0, sleep=lambda _s: None)

    assert last.sent == 4
    assert "sending" in out.getvalue()


def test_the_mail_history_shows_an_announcement_by_its_subject_in_the_readers_language(
    app: Flask, client: object, tmp_path: Path
) -> None:
    make_user("susan", locale="zh-CN", email_confirmed_at=utcnow() - timedelta(days=1))
    variant = write(tmp_path / "zh.txt", "Subject: 新闻\n\n你好")
    announcement_id = announced(app, tmp_path, "--locale-variant", f"zh-CN={variant}")
    susan_id = db.session.scalar(select(db.metadata.tables["users"].c.id))
    report_mail(announcement_id, [susan_id], "skipped", "cancelled")
    log_in(client, "susan")  # type: ignore[arg-type]

    page = html.unescape(client.get("/settings/notifications").get_data(as_text=True))  # type: ignore[attr-defined]

    # The page is in susan's language now, the words of the history too.
    assert "公告: 新闻" in page
    assert "未发送: 公告在送达你之前已被取消" in page


def test_announcements_have_words_of_their_own() -> None:
    assert kind_words("announcement") == "Announcement"
    assert kind_words("announcement", "Microblog news") == "Announcement: Microblog news"
    assert reason_words("cancelled") == "the announcement was cancelled before it reached you"
    assert reason_words("bad_address") == "your address is not one mail can be sent to"
