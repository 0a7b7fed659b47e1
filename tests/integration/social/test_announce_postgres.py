"""`social announce` on PostgreSQL: the events in the outbox's order, attachments intact, status
and cancel (two cancels at once: one wins), and the real command with 10,000 recipients in
bounded memory."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from microblog_contracts import (
    ANNOUNCEMENT_ATTACHMENT,
    ANNOUNCEMENT_CANCELLED,
    ANNOUNCEMENT_CREATED,
    ANNOUNCEMENT_RECIPIENTS,
    AnnouncementAttachment,
    AnnouncementRecipients,
)
from microblog_contracts.announcements import CHUNK_BYTES
from social.announcements.errors import AlreadyCancelled
from social.announcements.model import Announcement
from social.announcements.sending import cancel
from social.cli import main as social_cli
from social.dbtypes import utcnow
from social.extensions import db
from social.outbox.models import OutboxEvent
from sqlalchemy import func, select

from tests.support.processes import BIN
from tests.support.social_announce import add_users, report_mail, write
from tests.support.social_app import BASE_URL, recorded_events


def social(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(social_cli, ["announce", *args], obj=ScriptInfo(create_app=lambda: app))


def test_the_events_are_written_in_order_and_the_attachment_arrives_whole(app: Flask, tmp_path: Path) -> None:
    wanted = add_users(70)
    add_users(5, prefix="unconfirmed", confirmed=False)
    add_users(5, prefix="off", announcements=False)
    report = os.urandom(2 * CHUNK_BYTES + 7)
    zh = write(tmp_path / "zh.txt", "Subject: 新闻\n\n大家好")

    result = social(app, "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"),
                    "--attach", write(tmp_path / "报告 2026.pdf", report), "--locale-variant", f"zh-CN={zh}",
                    "--detach")

    assert result.exit_code == 0, result.output
    types = list(db.session.scalars(select(OutboxEvent.event_type).order_by(OutboxEvent.position)))
    assert types == [ANNOUNCEMENT_CREATED] + [ANNOUNCEMENT_ATTACHMENT] * 3 + [ANNOUNCEMENT_RECIPIENTS] * 2
    created, *rest = recorded_events()
    chunks = [e for e in rest if isinstance(e, AnnouncementAttachment)]
    batches = [e for e in rest if isinstance(e, AnnouncementRecipients)]
    [info] = created.data.attachments
    content = b"".join(base64.b64decode(c.data.data) for c in sorted(chunks, key=lambda c: c.data.chunk))
    assert (content, info.filename, info.sha256) == (report, "报告 2026.pdf", hashlib.sha256(report).hexdigest())
    assert (created.data.recipients, created.data.recipient_batches) == (70, 2)
    assert created.data.variants["zh-CN"].subject == "新闻"
    assert [p.user_id for b in batches for p in b.data.recipients] == wanted
    assert str(batches[0].data.recipients[0].unsubscribe_urls["announcements"]).startswith(BASE_URL)


def test_status_and_cancel(app: Flask, tmp_path: Path) -> None:
    users = add_users(4)
    result = social(app, "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"), "--detach")
    announcement_id = result.stdout.strip()
    report_mail(announcement_id, users[:2])
    report_mail(announcement_id, users[2:3], "skipped", "suppressed")

    status = social(app, "status", announcement_id).stdout.splitlines()
    assert status[-4:] == ["sent          2", "skipped       1 (suppressed 1)", "failed        0", "remaining     1"]

    cancelled = social(app, "cancel", announcement_id)
    assert cancelled.exit_code == 0, cancelled.output
    assert "2 of 4 recipient(s) had been mailed" in cancelled.stdout
    report_mail(announcement_id, users[3:], "skipped", "cancelled")
    status = social(app, "status", announcement_id).stdout.splitlines()
    assert status[-4:-1] == ["skipped       2 (cancelled 1, suppressed 1)", "failed        0", "remaining     0"]
    assert status[-1].startswith("cancelled     ")
    assert social(app, "cancel", announcement_id).exit_code == 1


def test_of_two_cancels_at_once_one_wins(app: Flask, tmp_path: Path) -> None:
    add_users(2)
    announcement_id = social(app, "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"),
                             "--detach").stdout.strip()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def cancel_it() -> None:
        with app.app_context():
            start.wait()
            try:
                cancel(announcement_id, now=utcnow())
                outcomes.append("cancelled")
            except AlreadyCancelled:
                outcomes.append("already")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cancel_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already", "cancelled"]
    assert len(recorded_events(ANNOUNCEMENT_CANCELLED)) == 1


#: Runs a command and prints, after its output, the peak resident memory of it (KiB on Linux).
_PEAK_RSS = ("import resource, subprocess, sys\n"
             "done = subprocess.run(sys.argv[1:])\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.exit(done.returncode)\n")


@pytest.mark.slow
def test_the_command_writes_ten_thousand_recipients_in_bounded_memory(
    app: Flask, postgres_url: str, tmp_path: Path
) -> None:
    add_users(10_000)
    env = {**os.environ, "DATABASE_URL": postgres_url, "SECRET_KEY": "test", "SOCIAL_BASE_URL": BASE_URL}
    args = [str(BIN / "social"), "announce", "--subject", "News", "--text", write(tmp_path / "t.txt", "Hello"),
            "--attach", write(tmp_path / "a.bin", os.urandom(1024 * 1024)), "--detach"]

    done = subprocess.run([sys.executable, "-c", _PEAK_RSS, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)

    assert done.returncode == 0, done.stderr[-2000:]
    announcement_id, peak_kib = done.stdout.split()
    assert int(peak_kib) < 150 * 1024
    db.session.rollback()
    announcement = db.session.get(Announcement, announcement_id)
    assert (announcement.recipients, announcement.recipient_batches) == (10_000, 167)
    count = select(func.count()).select_from(OutboxEvent)
    assert db.session.scalar(count.where(OutboxEvent.event_type == ANNOUNCEMENT_RECIPIENTS)) == 167
    assert db.session.scalar(count.where(OutboxEvent.event_type == ANNOUNCEMENT_ATTACHMENT)) == 29
