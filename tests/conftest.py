"""Fixtures every suite may use: real services, each test isolated in its own namespace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.proxy import TcpProxy
from tests.support.services import RABBIT_HOST, RABBIT_PORT, postgres_database, rabbit_vhost, require_rabbitmq
from tests.support.smtp import SmtpServer
from tests.support.tally import REPORTS, write_reports

REPORT_PATH = Path(__file__).resolve().parent.parent / "var" / "fault-report.json"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the mail tally of every fault-injection run, and keep it in var/fault-report.json."""
    if not REPORTS:
        return
    terminalreporter.section("fault injection: mails expected / delivered / duplicated / lost")
    for report in REPORTS:
        terminalreporter.write_line(
            f"{report['scenario']:<58} expected {report['expected']:>5}  delivered {report['delivered']:>5}"
            f"  duplicated {report['duplicated']:>3}  lost {report['lost']:>3}"
        )
    write_reports(REPORT_PATH)


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """A fresh RabbitMQ vhost for this test (fails if RabbitMQ is down)."""
    with rabbit_vhost() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test (fails if PostgreSQL is down)."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A recording SMTP server on a free port."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker_proxy() -> Iterator[TcpProxy]:
    """A TCP path to RabbitMQ the test can cut, like a broker restart, without touching the broker."""
    require_rabbitmq()
    proxy = TcpProxy(RABBIT_HOST, RABBIT_PORT).start()
    yield proxy
    proxy.stop()
