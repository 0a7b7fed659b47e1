"""The whole system as an operator starts it: `social db upgrade`, `social serve`,
`social relay` and `notifier run`, each its own process, around a test SMTP server."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support.cli import run_cli
from tests.support.notifier import http_status
from tests.support.processes import Process
from tests.support.services import free_port
from tests.support.smtp import ReceivedMail, SmtpServer
from tests.support.wait import wait_for

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class System:
    """Web, relay and notifier processes on one database, vhost and SMTP server."""

    def __init__(self, *, database_url: str, amqp_url: str, smtp: SmtpServer, workdir: Path,
                 relay_amqp_url: str | None = None, notifier_amqp_url: str | None = None,
                 relay_env: dict[str, str] | None = None, notifier_env: dict[str, str] | None = None) -> None:
        self.web_port, self.relay_port, self.notifier_port = free_port(), free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        common = {"DATABASE_URL": database_url, "SECRET_KEY": "e2e-secret", "LOG_FORMAT": "json",
                  "FOLLOW_NOTICE_DEFAULT": "immediately"}
        # Every person of a test signs up and logs in from 127.0.0.1: the per-client limits are
        # the security tests' to try, not the flows'.
        self.social_env = {**common, "AMQP_URL": amqp_url, "SOCIAL_BIND": f"127.0.0.1:{self.web_port}",
                           "SOCIAL_BASE_URL": self.base_url, "SOCIAL_WORKERS": "2",
                           "SIGNUP_RATE_LIMIT": "1000 per minute", "LOGIN_RATE_LIMIT": "1000 per minute"}
        self.relay_env = {**common, "AMQP_URL": relay_amqp_url or amqp_url,
                          "RELAY_HTTP_BIND": f"127.0.0.1:{self.relay_port}", **(relay_env or {})}
        self.notifier_env = {
            "AMQP_URL": notifier_amqp_url or amqp_url, "MAIL_SERVER": smtp.host, "MAIL_PORT": str(smtp.port),
            "ADMINS": "admin@microblog.test", "NOTIFIER_DATABASE_URL": f"sqlite:///{workdir / 'ledger.db'}",
            "NOTIFIER_HTTP_BIND": f"127.0.0.1:{self.notifier_port}", "NOTIFIER_RETRY_DELAYS": "300ms,1s",
            # Fault tests mail one user a thousand times, each at once; the cap and the gathering of
            # follow notices have tests of their own.
            "NOTIFIER_DAILY_CAP": "0", "FOLLOW_NOTICE_DEFAULT": "immediately", "NOTIFIER_FOLLOW_GRACE": "0",
            "LOG_FORMAT": "json", **(notifier_env or {}),
        }
        self.workdir = workdir
        self.web = Process("web", ["social", "serve"], self.social_env, workdir)
        self.relay = Process("relay", ["social", "relay"], self.relay_env, workdir)
        self.notifier = Process("notifier", ["notifier", "run"], self.notifier_env, workdir)

    def start(self, *, wait_ready: bool = True) -> System:
        upgraded = run_cli(["social", "db", "upgrade"], self.social_env)
        assert upgraded.code == 0, upgraded.err
        for process in (self.notifier, self.relay, self.web):
            process.start()
        wait_for(lambda: http_status(f"{self.base_url}/readyz") == 200, timeout=30, what="the web app")
        if wait_ready:
            wait_for(lambda: http_status(f"http://127.0.0.1:{self.notifier_port}/readyz") == 200, timeout=30,
                     what="the notifier")
            wait_for(lambda: http_status(f"http://127.0.0.1:{self.relay_port}/readyz") == 200, timeout=30,
                     what="the relay")
        return self

    def stop(self) -> dict[str, int | None]:
        return {p.name: p.stop() for p in (self.web, self.relay, self.notifier)}

    def browser(self) -> Browser:
        return Browser(self.base_url)

    def confirm(self, *nicknames: str) -> None:
        """Confirm each user's address as an operator does (`social users confirm NICKNAME`)."""
        for nickname in nicknames:
            ran = run_cli(["social", "users", "confirm", nickname], self.social_env)
            assert ran.code == 0, ran.err


@contextmanager
def running_system(**kwargs: object) -> Iterator[System]:
    system = System(**kwargs)  # type: ignore[arg-type]
    try:
        yield system.start()
    finally:
        codes = system.stop()
        bad = {name: code for name, code in codes.items() if code not in (0, None)}
        assert not bad, f"processes exited badly: {bad}\n" + "\n".join(
            f"--- {p.name}\n{p.output()[-2000:]}" for p in (system.web, system.relay, system.notifier))


class Browser:
    """A person using the web pages: cookies, forms and their CSRF tokens."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def _csrf(self, path: str) -> str:
        page = self.session.get(self.base_url + path, timeout=10)
        page.raise_for_status()
        match = _CSRF.search(page.text)
        assert match, f"no CSRF token on {path}"
        return html.unescape(match[1])

    def post_form(self, form_path: str, action: str, fields: dict[str, str]) -> requests.Response:
        """GET `form_path`, take its CSRF token, POST `fields` to `action`."""
        token = self._csrf(form_path)
        return self.session.post(self.base_url + action, data={"csrf_token": token, **fields}, timeout=10)

    def register(self, nickname: str, email: str, password: str, about_me: str = "", locale: str = "en") -> None:
        response = self.post_form("/auth/register", "/auth/register", {
            "nickname": nickname, "email": email, "password": password, "password2": password,
            "about_me": about_me, "locale": locale})
        assert response.ok, response.text[:500]
        assert f"Welcome, {html.escape(nickname)}!" in response.text, response.text[:2000]

    def login(self, nickname: str, password: str) -> None:
        response = self.post_form("/auth/login", "/auth/login", {"nickname": nickname, "password": password})
        assert response.ok
        # The logout form is on every page of someone logged in, whatever their language.
        assert 'action="/auth/logout"' in response.text, response.text[:2000]

    def follow(self, nickname: str) -> requests.Response:
        path = f"/user/{nickname}"
        return self.post_form(path, f"/follow/{nickname}", {})

    def use_link(self, url: str, fields: dict[str, str] | None = None) -> requests.Response:
        """Open a link from a mail (`/confirm/...`, `/reset_password/...`) and press its button."""
        path = url.removeprefix(self.base_url)
        return self.post_form(path, path, fields or {})

    def confirm_address(self, confirm_url: str) -> None:
        """Confirm an address with the link mailed to it."""
        response = self.use_link(confirm_url)
        assert response.ok and "is confirmed" in response.text, response.text[:2000]

    def save_notifications(self, **fields: str) -> requests.Response:
        """Submit the notification settings page (`follow_notices="off"`; a box left out is off)."""
        return self.post_form("/settings/notifications", "/settings/notifications", fields)


def link_in(mail: ReceivedMail, path: str) -> str:
    """The first link in a mail's text part whose path starts with `path` (e.g. "/confirm/")."""
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf"https?://\S+?{re.escape(path)}\S+", text)
    assert found, f"no {path} link in:\n{text}"
    return found[0]


def one_click_unsubscribe(url: str) -> requests.Response:
    """What a mail provider sends for RFC 8058: a bare POST, no cookie, no CSRF token, no redirects."""
    return requests.post(url, data="List-Unsubscribe=One-Click", allow_redirects=False, timeout=10,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
