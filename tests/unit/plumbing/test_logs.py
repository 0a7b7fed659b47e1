"""Log lines carry an address's domain only: in fields, messages and tracebacks, in both formats."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from microblog_plumbing.logs import configure_logging, redact_addresses


@pytest.fixture(autouse=True)
def fresh_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_an_address_in_a_field_a_reply_or_a_traceback_keeps_its_domain_only(
        fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt, "info")  # type: ignore[arg-type]
    log = structlog.get_logger("test")
    log.warning("send_failed", reason="550 5.1.1 <bob.smith@example.com>: Recipient address rejected",
                error="{'ana@bücher.example': (550, b'no')}")
    try:
        raise RuntimeError("refused: carol@example.org")
    except RuntimeError:
        log.exception("crashed")
    out = capsys.readouterr().err
    if fmt == "json":  # read the lines back: JSON escapes what is not ASCII
        out = "\n".join(json.dumps(json.loads(line), ensure_ascii=False) for line in out.splitlines())
    assert "bob.smith" not in out and "ana@" not in out and "carol@" not in out
    assert "…@example.com" in out and "…@bücher.example" in out and "…@example.org" in out
    assert "\x1b[" not in out  # no colour codes when stderr is not a terminal


def test_text_without_an_address_is_left_as_it_is() -> None:
    event = {"event": "x", "detail": "user@ handle and a@b but no domain", "count": 3}
    assert redact_addresses(None, "info", dict(event)) == event
