"""Mail people asked for and can stop, through the whole system: pages, API, relay, notifier,
a real broker and SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.smtp import SmtpServer
from tests.support.system import Browser, System, link_in, one_click_unsubscribe, running_system
from tests.support.wait import wait_for

#: Whole processes started and stopped: part of `make test`, left out of the quick loop.
pytestmark = pytest.mark.slow

FOLLOW = "is now following you"
PASSWORD = "a long enough password"


@pytest.fixture
def system(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[System]:
    overrides = getattr(request, "param", {})
    with running_system(database_url=f"sqlite:///{tmp_path / 'social.db'}", amqp_url=amqp_url, smtp=smtp_server,
                        workdir=tmp_path, notifier_env=overrides) as running:
        yield running


def person(system: System, nickname: str) -> Browser:
    """A registered, logged-in user, their address not confirmed yet."""
    browser = system.browser()
    browser.register(nickname, f"{nickname}@example.com", PASSWORD)
    browser.login(nickname, PASSWORD)
    return browser


def confirmed(system: System, smtp: SmtpServer, nickname: str) -> Browser:
    """A registered, logged-in user who confirmed their address with the link mailed to them."""
    browser = person(system, nickname)
    (mail,) = smtp.wait_for_matching(to=f"{nickname}@example.com", subject="Confirm your e-mail", timeout=15)
    browser.confirm_address(link_in(mail, "/confirm/"))
    return browser


def skipped(system: System, reason: str) -> str:
    ran = run_cli(["notifier", "skipped", "list", "--reason", reason], system.notifier_env)
    assert ran.code == 0, ran.err
    return ran.out


def test_mail_to_an_unconfirmed_address_is_skipped_and_the_next_goes_once_it_is_confirmed(
        system: System, smtp_server: SmtpServer) -> None:
    ann, ben = person(system, "ann"), person(system, "ben")
    ann.follow("ben")
    wait_for(lambda: "1 skipped mail(s)" in skipped(system, "unconfirmed"), timeout=15, what="the skip recorded")
    assert smtp_server.matching(subject=FOLLOW) == []
    def history() -> str | None:
        page = ben.session.get(f"{system.base_url}/settings/notifications").text
        return page if "not confirmed yet" in page else None

    assert "New follower" in wait_for(history, timeout=15, what="the skip in ben's mail history")
    (mail,) = smtp_server.wait_for_matching(to="ben@example.com", subject="Confirm your e-mail")
    ben.confirm_address(link_in(mail, "/confirm/"))
    carol = person(system, "carol")
    carol.follow("ben")
    (notice,) = smtp_server.wait_for_matching(to="ben@example.com", subject=FOLLOW, timeout=15)
    assert notice.message["Subject"] == "[microblog] carol is now following you!"
    assert run_cli(["notifier", "skipped", "list"], system.notifier_env).out.startswith("1 skipped mail(s)")


def test_a_reset_link_works_once_and_an_older_one_dies_with_the_password_change(
        system: System, smtp_server: SmtpServer) -> None:
    confirmed(system, smtp_server, "ann")
    stranger = system.browser()
    for _ in range(2):
        answer = stranger.post_form("/reset_password_request", "/reset_password_request", {"email": "ann@example.com"})
        assert answer.ok
    unknown = stranger.post_form("/reset_password_request", "/reset_password_request", {"email": "nobody@example.com"})
    assert re.sub(r"nobody@example\.com|ann@example\.com", "", unknown.text) == re.sub(
        r"nobody@example\.com|ann@example\.com", "", answer.text)  # the same page, account or not
    first, second = (link_in(m, "/reset_password/") for m in
                     smtp_server.wait_for_matching(2, to="ann@example.com", subject="Reset your password"))
    new = "a brand new long password"
    done = stranger.use_link(second, {"password": new, "password2": new})
    assert done.ok and "log in with the new one" in done.text
    assert requests.get(second, timeout=10).status_code == 410  # it works once
    assert requests.get(first, timeout=10).status_code == 410  # and the older one died with the change
    token = first.rsplit("/", 1)[1]
    api = requests.post(f"{system.base_url}/api/password-resets/{token}", json={"password": "yet another one"},
                        timeout=10)
    assert api.status_code == 410
    assert requests.post(f"{system.base_url}/api/tokens", auth=("ann", PASSWORD), timeout=10).status_code == 401
    assert requests.post(f"{system.base_url}/api/tokens", auth=("ann", new), timeout=10).status_code == 200


def test_one_click_unsubscribe_needs_no_cookie_and_opening_the_link_changes_nothing(
        system: System, smtp_server: SmtpServer) -> None:
    confirmed(system, smtp_server, "ben")
    person(system, "ann").follow("ben")
    (mail,) = smtp_server.wait_for_matching(to="ben@example.com", subject=FOLLOW, timeout=15)
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", str(mail.message["List-Unsubscribe"]))[1]  # type: ignore[index]
    assert url.startswith(f"{system.base_url}/unsubscribe/")
    assert url in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert requests.get(url, timeout=10).ok  # a mail scanner opening it
    person(system, "carol").follow("ben")
    smtp_server.wait_for_matching(2, to="ben@example.com", subject=FOLLOW, timeout=15)  # still on
    assert requests.post(url + "x", data="List-Unsubscribe=One-Click", timeout=10).status_code == 404
    answer = one_click_unsubscribe(url)
    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers
    person(system, "dave").follow("ben")
    wait_for(lambda: "1 skipped mail(s)" in skipped(system, "unsubscribed"), timeout=15, what="the skip")
    assert len(smtp_server.matching(to="ben@example.com", subject=FOLLOW)) == 2


@pytest.mark.parametrize("system", [{"NOTIFIER_RETRY_DELAYS": "2s"}], indirect=True)
def test_turning_notices_off_while_smtp_is_down_stops_the_mail_waiting_in_a_retry(
        system: System, smtp_server: SmtpServer) -> None:
    ben = confirmed(system, smtp_server, "ben")
    smtp_server.handler.responder = lambda env: "421 4.3.2 try later" if "ben@example.com" in env.rcpt_tos else None
    person(system, "ann").follow("ben")
    wait_for(lambda: '"outcome": "retry"' in system.notifier.output(), timeout=15, what="the mail to be retrying")
    assert ben.save_notifications(follow_notices="off").ok
    smtp_server.handler.responder = None
    wait_for(lambda: "1 skipped mail(s)" in skipped(system, "unsubscribed"), timeout=20, what="the retry, skipped")
    assert smtp_server.matching(to="ben@example.com", subject=FOLLOW) == []


def test_a_550_suppresses_the_address_shows_the_banner_and_confirming_again_lifts_both(
        system: System, smtp_server: SmtpServer) -> None:
    ben = confirmed(system, smtp_server, "ben")
    attempts: list[str] = []

    def refuse(envelope: object) -> str | None:
        if "ben@example.com" in envelope.rcpt_tos:  # type: ignore[attr-defined]
            attempts.append("ben")
            return "550 5.1.1 <ben@example.com>: mailbox unavailable"
        return None

    smtp_server.handler.responder = refuse
    person(system, "ann").follow("ben")
    banner = "Mail to ben@example.com was refused"
    wait_for(lambda: banner in ben.session.get(f"{system.base_url}/").text, timeout=20, what="the banner")
    person(system, "carol").follow("ben")
    wait_for(lambda: "1 skipped mail(s)" in skipped(system, "suppressed"), timeout=15, what="the suppression")
    assert attempts == ["ben"]  # no SMTP attempt for the suppressed address
    smtp_server.handler.responder = None  # the mailbox is fixed
    again = ben.post_form("/settings/email", "/settings/email/confirmation", {})
    assert again.ok
    (link,) = smtp_server.wait_for_matching(2, to="ben@example.com", subject="Confirm your e-mail")[1:]
    ben.confirm_address(link_in(link, "/confirm/"))
    assert banner not in ben.session.get(f"{system.base_url}/").text
    person(system, "dave").follow("ben")
    (notice,) = smtp_server.wait_for_matching(to="ben@example.com", subject=FOLLOW, timeout=15)
    assert "dave" in str(notice.message["Subject"])


@pytest.mark.parametrize("system", [{"NOTIFIER_DAILY_CAP": "2"}], indirect=True)
def test_the_daily_cap_holds_notifications_to_one_address_but_not_its_password_reset(
        system: System, smtp_server: SmtpServer) -> None:
    confirmed(system, smtp_server, "ben")
    for follower in ("ann", "carol", "dave"):
        person(system, follower).follow("ben")
    wait_for(lambda: "1 skipped mail(s)" in skipped(system, "daily_cap"), timeout=20, what="the third, capped")
    assert len(smtp_server.matching(to="ben@example.com", subject=FOLLOW)) == 2
    system.browser().post_form("/reset_password_request", "/reset_password_request", {"email": "ben@example.com"})
    smtp_server.wait_for_matching(to="ben@example.com", subject="Reset your password", timeout=15)
