"""The SMTP transport against a real SMTP server: TLS both ways, logins, dropped sessions."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import AuthResult
from notifier.errors import BadAddress, SmtpAuthRefused, SmtpRecipientRefused, SmtpTlsError, SmtpUnavailable
from notifier.transport import SmtpConfig, SmtpTransport
from pydantic import SecretStr

from tests.support.services import free_port
from tests.support.smtp import SmtpServer

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nhello\r\n"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA, hostname: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(hostname).configure_cert(context)
    return context


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[SmtpServer]:
    server = SmtpServer(tls_context=server_context(ca, "localhost"), require_starttls=True).start()
    yield server
    server.stop()


def config(server: SmtpServer, **kwargs: object) -> SmtpConfig:
    return SmtpConfig(host="localhost", port=server.port, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_starttls_with_a_trusted_certificate_sends(starttls_server: SmtpServer, ca_file: Path) -> None:
    reply = SmtpTransport(config(starttls_server, use_tls=True, ca_file=ca_file)).send(
        "a@example.com", ["b@example.com"], MESSAGE)
    assert reply.startswith("250")
    assert starttls_server.received[0].tls


def test_starttls_refuses_a_certificate_no_authority_vouches_for(starttls_server: SmtpServer) -> None:
    with pytest.raises(SmtpTlsError, match="certificate refused"):
        SmtpTransport(config(starttls_server, use_tls=True)).send("a@example.com", ["b@example.com"], MESSAGE)
    assert starttls_server.received == []


def test_a_certificate_for_another_host_is_refused(ca: trustme.CA, ca_file: Path) -> None:
    server = SmtpServer(tls_context=server_context(ca, "mail.other.example")).start()
    try:
        transport = SmtpTransport(config(server, use_tls=True, ca_file=ca_file))
        with pytest.raises(SmtpTlsError, match=r"[Hh]ostname mismatch"):
            transport.send("a@example.com", ["b@example.com"], MESSAGE)
    finally:
        server.stop()


def test_implicit_tls_with_a_trusted_certificate_sends(ca: trustme.CA, ca_file: Path) -> None:
    server = SmtpServer(ssl_context=server_context(ca, "localhost")).start()
    try:
        reply = SmtpTransport(config(server, use_ssl=True, ca_file=ca_file)).send(
            "a@example.com", ["b@example.com"], MESSAGE)
    finally:
        server.stop()
    assert reply.startswith("250")


def test_asking_for_starttls_from_a_server_without_it_is_a_tls_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(SmtpTlsError, match="does not offer STARTTLS"):
        SmtpTransport(config(smtp_server, use_tls=True)).send("a@example.com", ["b@example.com"], MESSAGE)


def test_implicit_tls_against_a_plain_server_is_a_tls_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(SmtpTlsError):
        SmtpTransport(config(smtp_server, use_ssl=True)).send("a@example.com", ["b@example.com"], MESSAGE)


def authenticator(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> AuthResult:
    ok = getattr(auth_data, "login", None) == b"mailer" and getattr(auth_data, "password", None) == b"right"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server(ca: trustme.CA) -> Iterator[SmtpServer]:
    server = SmtpServer(tls_context=server_context(ca, "localhost"), authenticator=authenticator,
                        auth_require_tls=True).start()
    yield server
    server.stop()


def test_a_login_with_the_right_password_sends(auth_server: SmtpServer, ca_file: Path) -> None:
    transport = SmtpTransport(config(auth_server, use_tls=True, ca_file=ca_file, username="mailer",
                                     password=SecretStr("right")))
    assert transport.send("a@example.com", ["b@example.com"], MESSAGE).startswith("250")


def test_a_refused_login_is_named_as_such(auth_server: SmtpServer, ca_file: Path) -> None:
    transport = SmtpTransport(config(auth_server, use_tls=True, ca_file=ca_file, username="mailer",
                                     password=SecretStr("wrong")))
    with pytest.raises(SmtpAuthRefused, match="login refused: 535") as caught:
        transport.send("a@example.com", ["b@example.com"], MESSAGE)
    assert "wrong" not in str(caught.value)


def test_one_session_carries_many_messages(smtp_server: SmtpServer) -> None:
    transport = SmtpTransport(config(smtp_server))
    for _ in range(5):
        transport.send("a@example.com", ["b@example.com"], MESSAGE)
    transport.close()
    assert len({m.peer for m in smtp_server.received}) == 1
    assert len(smtp_server.received) == 5


def test_a_session_the_server_dropped_is_reopened_for_the_next_message() -> None:
    port = free_port()
    server = SmtpServer(port=port).start()
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=port, timeout=5))
    transport.send("a@example.com", ["b@example.com"], MESSAGE)
    server.stop()
    restarted = SmtpServer(port=port).start()
    try:
        assert transport.send("a@example.com", ["b@example.com"], MESSAGE).startswith("250")
    finally:
        transport.close()
        restarted.stop()
    assert len(restarted.received) == 1


def test_a_server_that_is_not_there_is_unavailable_not_fatal() -> None:
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2))
    with pytest.raises(SmtpUnavailable, match="connection refused"):
        transport.send("a@example.com", ["b@example.com"], MESSAGE)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one command at a time"])
def test_messages_arrive_whole_with_or_without_pipelining(pipelining: bool) -> None:
    server = SmtpServer()
    server.handler.pipelining = pipelining
    server.start()
    dotted = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n.hidden line\r\n..two\r\nend\r\n"
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, timeout=5))
    try:
        for _ in range(3):
            assert transport.send("a@example.com", ["b@example.com", "c@example.com"], dotted).startswith("250")
    finally:
        transport.close()
        server.stop()
    assert [m.raw.replace(b"\r\n", b"\n") for m in server.received] == [dotted.replace(b"\r\n", b"\n")] * 3
    assert server.received[0].rcpt_tos == ["b@example.com", "c@example.com"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one command at a time"])
def test_a_refused_recipient_leaves_the_session_usable(pipelining: bool) -> None:
    server = SmtpServer()
    server.handler.pipelining = pipelining
    server.start()

    async def refuse_gone(srv: object, session: object, envelope: object, address: str, options: list[str]) -> str:
        if address == "gone@example.com":
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    server.handler.handle_RCPT = refuse_gone  # type: ignore[attr-defined]
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, timeout=5))
    try:
        with pytest.raises(SmtpRecipientRefused, match=r"550 5\.1\.1"):
            transport.send("a@example.com", ["gone@example.com"], MESSAGE)
        assert transport.send("a@example.com", ["b@example.com"], MESSAGE).startswith("250")
    finally:
        transport.close()
        server.stop()
    assert len(server.received) == 1
    assert server.handler.sessions == 1  # the refusal did not cost the session


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one command at a time"])
def test_an_internationalised_address_goes_as_its_a_label_and_with_smtputf8_where_offered(pipelining: bool) -> None:
    server = SmtpServer(enable_SMTPUTF8=True)
    server.handler.pipelining = pipelining
    server.start()
    message = "From: a@example.com\r\nTo: 张三@xn--fa-hia.de\r\nSubject: hi\r\n\r\nhello\r\n".encode()
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, timeout=5))
    try:
        transport.send("a@example.com", ["x@faß.de"], message)
        transport.send("a@example.com", ["张三@faß.de"], message)
    finally:
        transport.close()
        server.stop()
    assert [m.rcpt_tos for m in server.received] == [["x@xn--fa-hia.de"], ["张三@xn--fa-hia.de"]]


def test_a_non_ascii_local_part_is_a_bad_address_where_the_server_offers_no_smtputf8() -> None:
    server = SmtpServer(enable_SMTPUTF8=False).start()
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, timeout=5))
    try:
        with pytest.raises(BadAddress, match="SMTPUTF8"):
            transport.send("a@example.com", ["张三@example.com"], MESSAGE)
        assert transport.send("a@example.com", ["b@example.com"], MESSAGE).startswith("250")
    finally:
        transport.close()
        server.stop()
    assert [m.rcpt_tos for m in server.received] == [["b@example.com"]]
