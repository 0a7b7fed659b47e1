"""Running a notifier inside the test process, on real RabbitMQ, SMTP and ledger database."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from notifier.bootstrap import Notifier, build_notifier
from notifier.settings import NotifierSettings

from tests.support.amqp import assert_nothing_came_back
from tests.support.services import free_port
from tests.support.smtp import SmtpServer
from tests.support.wait import wait_for


def notifier_settings(amqp_url: str, smtp: SmtpServer, tmp_path: Path, **overrides: Any) -> NotifierSettings:
    """Settings for a test: this test's vhost, SMTP server and ledger file; short retries."""
    values: dict[str, Any] = {
        "amqp_url": amqp_url,
        "mail_server": smtp.host,
        "mail_port": smtp.port,
        "mail_timeout": 5,
        "admins": ["admin@example.com"],
        "mail_max_connections": 4,
        "notifier_database_url": f"sqlite:///{tmp_path / 'ledger.db'}",
        "notifier_retry_delays": ["300ms", "600ms"],
        "notifier_max_attempts": 4,
        "notifier_http_bind": "127.0.0.1:0",
        "log_format": "console",
        # Most tests mail one address many times, at once, to watch delivery itself; the cap and
        # the gathering of follow notices have tests of their own.
        "notifier_daily_cap": 0,
        "follow_notice_default": "immediately",
        "notifier_follow_grace": "0",
    }
    values.update(overrides)
    return NotifierSettings(**values)


@contextmanager
def running_notifier(settings: NotifierSettings, *, expect_all_acked: bool = True,
                     **build_kwargs: Any) -> Iterator[Notifier]:
    """A notifier consuming on a thread; stopped (gracefully) and joined at the end. Then, unless
    told otherwise, no message may come back to the work queue: everything it took was acked."""
    notifier = build_notifier(settings, **build_kwargs)
    thread = threading.Thread(target=notifier.run, name="notifier-under-test", daemon=True)
    thread.start()
    try:
        wait_for(notifier.consumer.connected.is_set, timeout=15, what="the notifier to connect")
        yield notifier
    finally:
        notifier.stop()
        thread.join(60)
        assert not thread.is_alive(), "the notifier did not stop within 60 s"
    if expect_all_acked:
        assert_nothing_came_back(settings.amqp_url, settings.notifier_queue)


def notifier_env(amqp_url: str, smtp: SmtpServer, tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Environment for a `notifier run` process in a test."""
    env = {
        "AMQP_URL": amqp_url,
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": str(smtp.port),
        "MAIL_TIMEOUT": "10",
        "ADMINS": "admin@example.com",
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "NOTIFIER_RETRY_DELAYS": "300ms,1s",
        "NOTIFIER_HTTP_BIND": f"127.0.0.1:{free_port()}",
        "NOTIFIER_DAILY_CAP": "0",  # as in notifier_settings: the cap and gathering have tests of their own
        "FOLLOW_NOTICE_DEFAULT": "immediately",
        "NOTIFIER_FOLLOW_GRACE": "0",
        "LOG_FORMAT": "json",
    }
    env.update(overrides)
    return env


def http_status(url: str) -> int | None:
    """The HTTP status `url` answers with, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def wait_until_ready(env: dict[str, str], timeout: float = 30.0) -> None:
    """Wait for a notifier process started with `env` to answer /readyz with 200."""
    url = f"http://{env['NOTIFIER_HTTP_BIND']}/readyz"
    wait_for(lambda: http_status(url) == 200, timeout=timeout, what=f"{url} to answer 200")


def metric_total(notifier: Notifier, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels` (Prometheus's public API)."""
    total = 0.0
    for family in notifier.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
