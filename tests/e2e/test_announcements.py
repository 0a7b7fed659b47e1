"""Announcements through the whole system as an operator runs them: `social announce` to users in
the database, the relay, the notifier's bulk senders, the SMTP server; `status` from what the
notifier told social; a relay killed mid-publish; a cancel in the middle."""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path

import pytest
from social.app import create_app
from social.settings import SocialSettings

from tests.support.cli import run_cli
from tests.support.processes import Process
from tests.support.smtp import SmtpServer
from tests.support.social_announce import add_users, write
from tests.support.system import System, running_system
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow

REPORT = bytes(range(256)) * 2000  # 512 KB


def seed(system: System, **groups: dict[str, object]) -> None:
    """Users straight into social's database (no sign-up: hundreds of them)."""
    app = create_app(SocialSettings(database_url=system.social_env["DATABASE_URL"],
                                    secret_key=system.social_env["SECRET_KEY"]))
    with app.app_context():
        for prefix, options in groups.items():
            add_users(prefix=prefix, **options)  # type: ignore[arg-type]


def announce(system: System, *args: str) -> str:
    ran = run_cli(["social", "announce", *args], system.social_env, timeout=180)
    assert ran.code == 0, ran.err
    return ran.out.strip().splitlines()[0]


def status(system: System, announcement_id: str) -> dict[str, object]:
    ran = run_cli(["social", "announce", "status", announcement_id, "--json"], system.social_env)
    assert ran.code == 0, ran.err
    return json.loads(ran.out)  # type: ignore[no-any-return]


def announced(smtp: SmtpServer) -> list[str]:
    return [m.rcpt_tos[0] for m in smtp.received if ".announcement@" in str(m.message["Message-ID"])]


def test_an_announcement_reaches_each_user_once_in_their_language_with_its_attachment(
        smtp_server: SmtpServer, amqp_url: str, tmp_path: Path) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url, smtp=smtp_server,
                        workdir=tmp_path) as system:
        seed(system, en={"count": 60}, zh={"count": 40, "locale": "zh-CN"},
             off={"count": 5, "announcements": False}, new={"count": 5, "confirmed": False})
        announcement_id = announce(
            system, "--subject", "Microblog turns two", "--text", write(tmp_path / "news.txt", "Thank you.\n"),
            "--attach", write(tmp_path / "年度报告 2026.pdf", REPORT),
            "--locale-variant", "zh-CN=" + write(tmp_path / "news.zh.txt", "Subject: Microblog 两周年\n\n谢谢你。\n"))
        # Without --detach the command watched until every recipient was mailed.
        counts = Counter(announced(smtp_server))
        assert counts == {f"{p}{n}@example.com": 1 for p, k in (("en", 60), ("zh", 40)) for n in range(k)}
        report = status(system, announcement_id)
    assert (report["recipients"], report["sent"], report["remaining"]) == (100, 100, 0)
    for mail in smtp_server.received:
        chinese = mail.rcpt_tos[0].startswith("zh")
        assert mail.message["Subject"] == ("Microblog 两周年" if chinese else "Microblog turns two")
        (attachment,) = mail.message.iter_attachments()
        assert attachment.get_filename() == "年度报告 2026.pdf"
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_payload(decode=True) == REPORT
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_relay_killed_while_it_publishes_an_announcement_loses_and_doubles_nobody(
        smtp_server: SmtpServer, amqp_url: str, tmp_path: Path) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url, smtp=smtp_server,
                        workdir=tmp_path, relay_env={"RELAY_BATCH_SIZE": "5"}) as system:
        seed(system, user={"count": 1500})
        announce(system, "--subject", "News", "--text", write(tmp_path / "n.txt", "Hello.\n"), "--detach")
        wait_for(lambda: len(smtp_server.received) >= 20, timeout=60, what="the first mails")
        system.relay.signal(signal.SIGKILL)
        system.relay.proc.wait(10)  # type: ignore[union-attr]
        system.relay = Process("relay-2", ["social", "relay"], system.relay_env, tmp_path).start()
        wait_for(lambda: len(set(announced(smtp_server))) >= 1500, timeout=120, what="every recipient")
    counts = Counter(announced(smtp_server))
    assert len(counts) == 1500 and max(counts.values()) == 1


def test_a_cancel_in_the_middle_stops_what_has_not_gone(
        smtp_server: SmtpServer, amqp_url: str, tmp_path: Path) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url, smtp=smtp_server,
                        workdir=tmp_path, notifier_env={"MAIL_RATE_LIMIT": "20"}) as system:
        seed(system, user={"count": 300})
        announcement_id = announce(system, "--subject", "News", "--text", write(tmp_path / "n.txt", "Hi.\n"),
                                   "--detach")
        wait_for(lambda: len(announced(smtp_server)) >= 30, timeout=60, what="some mails")
        cancelled = run_cli(["social", "announce", "cancel", announcement_id], system.social_env)
        assert cancelled.code == 0, cancelled.err
        wait_for(lambda: status(system, announcement_id)["remaining"] == 0, timeout=60,
                 what="every recipient sent or set aside")
        report = status(system, announcement_id)
        mailed = len(announced(smtp_server))
    assert report["sent"] == mailed < 300
    assert report["skipped"] == {"cancelled": 300 - mailed}
