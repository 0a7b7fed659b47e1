"""The whole path, as people and operators meet it: pages in a browser session, the API, the
processes started by their console scripts, a real SMTP server at the end."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.amqp import publish
from tests.support.proxy import TcpProxy
from tests.support.smtp import SmtpServer
from tests.support.system import link_in, running_system
from tests.support.wait import wait_for

#: Whole processes started and stopped: part of `make test`, left out of the quick loop.
pytestmark = pytest.mark.slow


def test_two_people_register_one_follows_the_other_and_the_mail_arrives(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url,
                        smtp=smtp_server, workdir=tmp_path) as system:
        susan, john = system.browser(), system.browser()
        susan.register("susan", "susan@example.com", "a long enough password",
                       about_me="I post about <script>alert(1)</script> birds")
        john.register("john", "john@example.com", "another long password")
        (confirmation,) = smtp_server.wait_for_matching(to="john@example.com", subject="Confirm your e-mail")
        john.confirm_address(link_in(confirmation, "/confirm/"))
        susan.login("susan", "a long enough password")
        before = datetime.now(UTC)
        page = susan.follow("john")
        assert "You are now following john." in page.text
        (mail,) = smtp_server.wait_for_matching(subject="is now following you", timeout=15)
        after = datetime.now(UTC)
        profile = system.browser().session.get(f"{system.base_url}/user/john").text
        count = re.search(r"<a [^>]*data-followers[^>]*>(.*?)</a>", profile, re.DOTALL)
        assert count, profile[:3000]
        assert " ".join(re.sub(r"<[^>]+>", "", count[1]).split()) == "1 follower"
    message = mail.message
    assert mail.rcpt_tos == ["john@example.com"]
    assert message["Subject"] == "[microblog] susan is now following you!"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@microblog.test>")
    # Dated when it was written (to the second), in a zone-aware form mail clients sort by.
    sent_at = email.utils.parsedate_to_datetime(message["Date"])
    assert before - timedelta(seconds=1) <= sent_at <= after
    text, html_part = message.iter_parts()
    profile = f"{system.base_url}/user/susan"
    assert profile in text.get_content()
    assert f'href="{profile}"' in html_part.get_content()
    # Escaped, and quoted: a zero-width space after each "/" keeps a follower's words from linking
    assert "&lt;script&gt;alert(1)&lt;/\u200bscript&gt;" in html_part.get_content()
    assert "<script>" not in html_part.get_content()


def test_following_twice_sends_one_mail(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url,
                        smtp=smtp_server, workdir=tmp_path) as system:
        a, b = system.browser(), system.browser()
        a.register("ann", "ann@example.com", "password for ann")
        b.register("ben", "ben@example.com", "password for ben")
        system.confirm("ann", "ben")
        a.login("ann", "password for ann")
        a.follow("ben")
        smtp_server.wait_for_matching(subject="is now following you")
        again = a.post_form("/user/ben", "/follow/ben", {})  # a stale page's button, pressed again
        assert again.ok
        b.login("ben", "password for ben")
        b.follow("ann")  # and a different follow, to know the pipeline has moved on
        follows = smtp_server.wait_for_matching(2, subject="is now following you")
    assert sorted(m.rcpt_tos[0] for m in follows) == ["ann@example.com", "ben@example.com"]


def test_chinese_names_and_text_arrive_intact(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url,
                        smtp=smtp_server, workdir=tmp_path) as system:
        a, b = system.browser(), system.browser()
        a.register("张三", "zhang@example.com", "zhang's password", about_me="我喜欢写诗。", locale="zh-CN")
        b.register("李四", "li@example.com", "li's password here")
        system.confirm("李四")
        a.login("张三", "zhang's password")
        assert "你已关注 李四。" in a.follow("李四").text  # 张三 reads the site in Chinese
        (mail,) = smtp_server.wait_for_matching(subject="is now following you")
    assert mail.message["Subject"] == "[microblog] 张三 is now following you!"
    text, html_part = mail.message.iter_parts()
    assert "我喜欢写诗。" in text.get_content()
    assert "张三" in html_part.get_content()
    assert "/user/%E5%BC%A0%E4%B8%89" in text.get_content()


def test_a_follow_while_the_broker_is_unreachable_succeeds_and_its_mail_arrives_later(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path, broker_proxy: TcpProxy
) -> None:
    proxied = broker_proxy.url(amqp_url)
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=proxied,
                        relay_amqp_url=proxied, notifier_amqp_url=proxied, smtp=smtp_server,
                        workdir=tmp_path) as system:
        a, b = system.browser(), system.browser()
        a.register("ann", "ann@example.com", "password for ann")
        b.register("ben", "ben@example.com", "password for ben")
        system.confirm("ben")
        smtp_server.wait_for_matching(2, subject="Confirm your e-mail", timeout=30)
        a.login("ann", "password for ann")
        broker_proxy.refuse()
        page = a.follow("ben")
        assert page.status_code == 200
        assert "You are now following ben." in page.text
        assert smtp_server.matching(subject="is now following you") == []
        broker_proxy.accept()
        (mail,) = smtp_server.wait_for_matching(subject="is now following you", timeout=60)
    assert mail.rcpt_tos == ["ben@example.com"]


def test_a_malformed_event_leaves_the_notifier_running_and_the_next_follow_is_mailed(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url,
                        smtp=smtp_server, workdir=tmp_path) as system:
        publish(amqp_url, b'{"specversion": "1.0", "oops": true}', message_id="malformed-1")
        wait_for(lambda: "malformed-1" in system.notifier.output(), what="the notifier to see it")
        assert system.notifier.running
        a, b = system.browser(), system.browser()
        a.register("ann", "ann@example.com", "password for ann")
        b.register("ben", "ben@example.com", "password for ben")
        system.confirm("ben")
        a.login("ann", "password for ann")
        a.follow("ben")
        smtp_server.wait_for_matching(subject="is now following you")
        assert system.notifier.running
