"""`social announce` on SQLite: who gets it, the events it writes and their order, attachments that
reassemble byte for byte, and every refusal (exit status 2, nothing written)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from microblog_contracts import (
    ANNOUNCEMENT_ATTACHMENT,
    ANNOUNCEMENT_CREATED,
    ANNOUNCEMENT_RECIPIENTS,
    AnnouncementAttachment,
    AnnouncementCreated,
    AnnouncementRecipients,
    Envelope,
)
from microblog_contracts.announcements import CHUNK_BYTES
from social.announcements.model import Announcement
from social.announcements.recipients import BATCH_BYTES
from social.cli import main as social_cli
from social.extensions import db
from social.outbox.models import OutboxEvent
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from tests.support.social_announce import add_users, write
from tests.support.social_app import BASE_URL, recorded_events


def announce(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(social_cli, ["announce", *args], obj=ScriptInfo(create_app=lambda: app))


def texts(tmp_path: Path) -> list[str]:
    return ["--subject", "Microblog news", "--text", write(tmp_path / "news.txt", "Hello,\n\nwe have news.\n")]


def events_of(announcement_id: str) -> list[Envelope[Any]]:
    events = recorded_events()
    return [e for e in events if getattr(e.data, "announcement_id", None) == announcement_id]


def reassembled(chunks: list[AnnouncementAttachment], index: int) -> bytes:
    mine = sorted((c for c in chunks if c.data.index == index), key=lambda c: c.data.chunk)
    return b"".join(base64.b64decode(c.data.data) for c in mine)


def test_it_goes_to_every_user_with_a_confirmed_address_and_announcements_on(app: Flask, tmp_path: Path) -> None:
    wanted = add_users(3)
    add_users(2, prefix="unconfirmed", confirmed=False)
    add_users(2, prefix="off", announcements=False)

    result = announce(app, *texts(tmp_path), "--detach")

    assert result.exit_code == 0, result.output
    announcement_id = result.stdout.strip()  # the id alone on standard output, for scripts
    assert "3 recipient(s) in 1 batch(es)" in result.stderr
    assert f"social announce status {announcement_id} --watch" in result.stderr
    created, batch = events_of(announcement_id)
    assert isinstance(created, AnnouncementCreated) and isinstance(batch, AnnouncementRecipients)
    assert (created.data.recipients, created.data.recipient_batches) == (3, 1)
    assert (created.data.default.subject, created.data.default.text) == ("Microblog news", "Hello,\n\nwe have news.\n")
    assert [p.user_id for p in batch.data.recipients] == wanted
    [first] = batch.data.recipients[:1]
    assert str(first.unsubscribe_urls["announcements"]).startswith(f"{BASE_URL}/unsubscribe/")
    row = db.session.get(Announcement, announcement_id)
    assert (row.subject, row.recipients, row.recipient_batches, row.cancelled_at) == ("Microblog news", 3, 1, None)


def test_the_outbox_holds_created_then_every_chunk_then_the_batches_with_exact_counts(
    app: Flask, tmp_path: Path
) -> None:
    add_users(130)
    report = os.urandom(2 * CHUNK_BYTES + 1000)
    result = announce(app, *texts(tmp_path), "--attach", write(tmp_path / "a" / "报告 2026.pdf", report),
                      "--attach", write(tmp_path / "notes.weird", b"plain bytes"), "--detach")
    assert result.exit_code == 0, result.output

    rows = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.position)).all()
    assert [r.event_type for r in rows] == (
        [ANNOUNCEMENT_CREATED] + [ANNOUNCEMENT_ATTACHMENT] * 4 + [ANNOUNCEMENT_RECIPIENTS] * 3)
    assert all(len(r.body.encode()) <= BATCH_BYTES for r in rows if r.event_type == ANNOUNCEMENT_RECIPIENTS)
    created, *rest = recorded_events()
    batches = [e for e in rest if isinstance(e, AnnouncementRecipients)]
    assert (created.data.recipients, created.data.recipient_batches) == (130, 3)
    assert [b.data.batch for b in batches] == [0, 1, 2]
    assert sum(len(b.data.recipients) for b in batches) == 130
    assert len({p.user_id for b in batches for p in b.data.recipients}) == 130


def test_attachments_reassemble_byte_for_byte_with_their_utf8_names_sizes_and_types(app: Flask, tmp_path: Path) -> None:
    add_users(1)
    report = os.urandom(3 * CHUNK_BYTES)  # exactly three chunks
    archive = os.urandom(10)
    result = announce(app, *texts(tmp_path), "--attach", write(tmp_path / "报告 2026.pdf", report),
                      "--attach", write(tmp_path / "logs.tar.gz", archive),
                      "--attach", write(tmp_path / "empty.txt", b""), "--detach")
    assert result.exit_code == 0, result.output

    created, *rest = events_of(result.stdout.strip())
    chunks = [e for e in rest if isinstance(e, AnnouncementAttachment)]
    infos = created.data.attachments
    assert [(a.index, a.filename, a.content_type, a.size, a.chunks) for a in infos] == [
        (0, "报告 2026.pdf", "application/pdf", len(report), 3),
        (1, "logs.tar.gz", "application/gzip", 10, 1),
        (2, "empty.txt", "text/plain", 0, 0),
    ]
    for info, content in zip(infos, (report, archive, b""), strict=True):
        assert reassembled(chunks, info.index) == content
        assert info.sha256 == hashlib.sha256(content).hexdigest()
    assert db.session.get(Announcement, created.data.announcement_id).attachments[0] == {
        "filename": "报告 2026.pdf", "content_type": "application/pdf", "size": len(report),
        "sha256": hashlib.sha256(report).hexdigest()}


def test_locale_variants_and_html_travel_in_the_created_event(app: Flask, tmp_path: Path) -> None:
    add_users(1, locale="zh-CN")
    zh_text = write(tmp_path / "news.zh.txt", "Subject: 新闻\n\n大家好\n")
    result = announce(
        app, *texts(tmp_path), "--html", write(tmp_path / "news.html", "<p>Hello</p>"),
        "--locale-variant", f"zh-CN={zh_text}",
        "--locale-variant", f"zh-CN={write(tmp_path / 'news.zh.html', '<p>大家好</p>')}", "--detach")
    assert result.exit_code == 0, result.output
    assert "variants: zh-CN" in result.stderr

    created, _batch = events_of(result.stdout.strip())
    assert created.data.default.html == "<p>Hello</p>"
    assert created.data.variants["zh-CN"].model_dump() == {
        "subject": "新闻", "text": "大家好\n", "html": "<p>大家好</p>"}
    assert db.session.get(Announcement, created.data.announcement_id).variant_subjects == {"zh-CN": "新闻"}


def nothing_written() -> bool:
    return db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 0 and (
        db.session.scalar(select(func.count()).select_from(Announcement)) == 0)


@pytest.mark.parametrize(("args", "says"), [
    (["--subject", "News", "--text", "missing.txt"], "--text missing.txt: no such file"),
    (["--attach", "."], "--attach .: a directory, not a file"),
    (["--subject", "Two\nlines"], "the subject must be one line"),
    (["--locale-variant", "zh-CN"], "give LOCALE=FILE"),
    (["--locale-variant", "tlh=klingon.txt"], "unknown locale 'tlh'"),
])
def test_a_refused_announcement_exits_2_says_why_and_writes_nothing(
    app: Flask, tmp_path: Path, args: list[str], says: str
) -> None:
    add_users(2)
    result = announce(app, *texts(tmp_path), *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert says in result.stderr
    assert nothing_written()


def test_too_much_to_attach_or_to_say_is_refused_with_the_sizes(app: Flask, tmp_path: Path) -> None:
    add_users(1)
    big = tmp_path / "big.iso"
    with big.open("wb") as file:
        file.truncate(10 * 1024 * 1024 + 1)
    result = announce(app, *texts(tmp_path), "--attach", str(big))
    assert (result.exit_code, nothing_written()) == (2, True)
    assert ("the attachments are 10.0 MiB (10,485,761 bytes) in all; at most 10.0 MiB (10,485,760 bytes)"
            in result.stderr)

    result = announce(app, "--subject", "News", "--text", write(tmp_path / "long.txt", "字" * 14_000))
    assert (result.exit_code, nothing_written()) == (2, True)
    assert "are 42,0" in result.stderr and "at most 40,960 bytes" in result.stderr


def test_without_recipients_nothing_is_written_and_it_says_so(app: Flask, tmp_path: Path) -> None:
    add_users(2, confirmed=False)
    result = announce(app, *texts(tmp_path))
    assert result.exit_code == 2
    assert "no user has a confirmed address with announcements on; nothing was written" in result.stderr
    assert nothing_written()


def test_an_account_no_mail_can_go_to_is_left_out_and_counted(app: Flask, tmp_path: Path) -> None:
    ids = add_users(3)
    db.session.execute(update(Announcement.metadata.tables["users"]).where(
        Announcement.metadata.tables["users"].c.id == ids[1]).values(email="not-an-address"))
    db.session.commit()
    result = announce(app, *texts(tmp_path), "--detach")
    assert result.exit_code == 0, result.output
    assert "2 recipient(s)" in result.stderr and "left out 1 user(s)" in result.stderr
    # (Unconfigured, as in this test, structlog writes its line to stdout; `social` sends it to stderr.)
    _created, batch = events_of(result.stdout.splitlines()[-1])
    assert [p.user_id for p in batch.data.recipients] == [ids[0], ids[2]]


def test_a_database_not_upgraded_is_refused_naming_the_command(app: Flask, tmp_path: Path) -> None:
    add_users(1)
    Announcement.__table__.drop(db.engine)
    result = announce(app, *texts(tmp_path))
    assert result.exit_code == 2
    assert "the database has no announcements table: run `social db upgrade` first" in result.stderr


def test_a_database_that_fails_is_said_in_one_line(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_users(1)

    def locked(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("INSERT INTO outbox_events ...", {}, Exception("database is locked"))

    monkeypatch.setattr("social.announcements.sending.announce", locked)
    result = announce(app, *texts(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("social announce: the database failed (")
    assert "database is locked" in result.stderr and result.stderr.endswith("nothing was written\n")


def test_making_one_needs_a_subject_and_a_text_and_the_commands_take_none_of_those(app: Flask, tmp_path: Path) -> None:
    assert announce(app, "--subject", "News").exit_code == 2
    mixed = announce(app, "--subject", "News", "status", "some-id")
    assert (mixed.exit_code, "`status` takes none of them" in mixed.output) == (2, True)


def test_help_says_the_variant_format_and_the_limits(app: Flask) -> None:
    shown = " ".join(announce(app, "--help").output.split())
    assert "'Subject: ...', then a blank line, then the text" in shown
    assert "zh-CN=news.zh.html" in shown
    assert "attachments 10 MiB in all" in shown


def test_ten_thousand_recipients_are_written_in_full(app: Flask, tmp_path: Path) -> None:
    add_users(10_000)
    result = announce(app, *texts(tmp_path), "--attach", write(tmp_path / "a.bin", os.urandom(100_000)), "--detach")
    assert result.exit_code == 0, result.output
    types = [t for (t,) in db.session.execute(select(OutboxEvent.event_type).order_by(OutboxEvent.position))]
    batches = types.count(ANNOUNCEMENT_RECIPIENTS)
    assert types[:4] == [ANNOUNCEMENT_CREATED] + [ANNOUNCEMENT_ATTACHMENT] * 3
    assert batches == -(-10_000 // 60)
    announcement = db.session.get(Announcement, result.stdout.strip())
    assert (announcement.recipients, announcement.recipient_batches) == (10_000, batches)
