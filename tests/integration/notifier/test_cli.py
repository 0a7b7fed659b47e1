"""`notifier send-test`, `notifier run`'s start and stop, as an operator meets them."""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from tests.support.amqp import message_count, publish_many
from tests.support.cli import run_cli
from tests.support.events import user_followed
from tests.support.notifier import notifier_env, wait_until_ready
from tests.support.processes import Process
from tests.support.services import free_port
from tests.support.smtp import SmtpServer
from tests.support.wait import wait_for


def send_test_env(port: int, **extra: str) -> dict[str, str]:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port), "ADMINS": "admin@example.com",
            "MAIL_TIMEOUT": "2", **extra}


def test_send_test_sends_one_mail_and_prints_the_servers_answer(smtp_server: SmtpServer) -> None:
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com"], send_test_env(smtp_server.port))
    assert ran.code == 0, ran.err
    assert ran.out.startswith(f"sent to ops@example.com via 127.0.0.1:{smtp_server.port}: 250 ")
    (mail,) = smtp_server.received
    assert mail.rcpt_tos == ["ops@example.com"]
    assert mail.message["Subject"] == "[microblog] test mail"


def test_send_test_attaches_files_byte_for_byte(smtp_server: SmtpServer, tmp_path: Path) -> None:
    report = tmp_path / "月报 2026.pdf"
    report.write_bytes(bytes(range(256)) * 40)
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"first\r\n.second\nthird")
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com", "--attach", str(report), "--attach",
                   str(notes)], send_test_env(smtp_server.port))
    assert ran.code == 0, ran.err
    assert ran.out.startswith("sent to ops@example.com with 2 attachments via ")
    (mail,) = smtp_server.received
    files = {p.get_filename(): (p.get_content_type(), p.get_payload(decode=True))
             for p in mail.message.iter_attachments()}
    assert files == {"月报 2026.pdf": ("application/pdf", report.read_bytes()),
                     "notes.txt": ("text/plain", notes.read_bytes())}


def test_send_test_refuses_attachments_past_10_mb_and_missing_files(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (10 * 1024 * 1024 + 1))
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com", "--attach", str(big)], send_test_env(1))
    assert ran.code != 0 and "at most 10,485,760 bytes" in ran.err
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com", "--attach", str(tmp_path / "nope.pdf")],
                  send_test_env(1))
    assert ran.code == 2 and "does not exist" in ran.err


def test_send_test_says_in_one_line_when_the_connection_is_refused() -> None:
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com"], send_test_env(free_port()))
    assert ran.code == 1
    assert ran.err.strip().count("\n") == 0
    assert "connection refused" in ran.err
    assert "Traceback" not in ran.err


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word, like an SMTPS port spoken to in plain text."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_send_test_says_in_one_line_when_the_server_does_not_answer(silent_server: int) -> None:
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com"], send_test_env(silent_server))
    assert ran.code == 1
    assert ran.err.strip().count("\n") == 0
    assert "timed out" in ran.err
    assert "MAIL_USE_SSL" in ran.err


def test_send_test_says_when_tls_is_asked_of_a_server_without_it(smtp_server: SmtpServer) -> None:
    ran = run_cli(["notifier", "send-test", "--to", "ops@example.com"],
                  send_test_env(smtp_server.port, MAIL_USE_SSL="true"))
    assert ran.code == 1
    assert "TLS failed" in ran.err
    assert ran.err.strip().count("\n") == 0


def test_send_test_says_when_the_login_is_refused_and_never_shows_the_password() -> None:
    def refuse(*_: object) -> AuthResult:
        return AuthResult(success=False, handled=False)

    server = SmtpServer(authenticator=refuse, auth_require_tls=False).start()
    try:
        ran = run_cli(["notifier", "send-test", "--to", "ops@example.com"],
                      send_test_env(server.port, MAIL_USERNAME="mailer", MAIL_PASSWORD="wrong-Secret-9"))
    finally:
        server.stop()
    assert ran.code == 1
    assert "login refused: 535" in ran.err
    assert "MAIL_USERNAME and MAIL_PASSWORD" in ran.err
    assert "wrong-Secret-9" not in ran.err + ran.out


def test_a_wrong_setting_stops_run_with_one_line_naming_it() -> None:
    ran = run_cli(["notifier", "run"], {"ADMINS": "admin@example.com", "MAIL_PORT": "twenty-five"})
    assert ran.code == 2
    assert ran.err.strip() == ("notifier: configuration error: MAIL_PORT: Input should be a valid integer, "
                               "unable to parse string as an integer (got 'twenty-five')")


def test_sigterm_finishes_the_mail_in_hand_then_stops_cleanly(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.handler.delay = 2.0
    events = [user_followed() for _ in range(5)]
    env = notifier_env(amqp_url, smtp_server, tmp_path, MAIL_MAX_CONNECTIONS="1")
    notifier = Process("notifier", ["notifier", "run"], env, tmp_path).start()
    wait_until_ready(env)
    publish_many(amqp_url, [(e.id, e.to_json_bytes()) for e in events])
    wait_for(lambda: '"smtp-worker' in notifier.output() or message_count(amqp_url, "notifier.user-followed") < 5,
             what="the first mail to be in hand")
    notifier.signal(signal.SIGTERM)
    assert notifier.proc is not None
    assert notifier.proc.wait(30) == 0, notifier.output()
    lines = [json.loads(line) for line in notifier.output().splitlines() if line.startswith("{")]
    settled = [line for line in lines if line["event"] == "event_settled"]
    assert len(settled) == 1, "the mail in hand was finished and acked, nothing more taken"
    assert len(smtp_server.received) == 1
    assert message_count(amqp_url, "notifier.user-followed") == 4  # given back for the next notifier
    assert any(line["event"] == "consumer_stopped" for line in lines)
