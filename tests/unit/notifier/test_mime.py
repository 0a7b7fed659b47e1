from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from notifier.mime import (
    BadAddress,
    Sender,
    build_alternative,
    build_plain,
    encode_header_value,
    message_id_for,
    smtp_address,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def build(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "sender": Sender.parse("Microblog <admin@example.com>"),
        "recipient": "bob@example.com",
        "subject": "[microblog] alice is now following you!",
        "text": "Dear bob,\nalice is now a follower.\n",
        "html": "<p>Dear bob,</p>",
        "message_id": "<e1.follower_email@example.com>",
        "date": NOW,
    }
    fields.update(overrides)
    return build_alternative(**fields)  # type: ignore[arg-type]


def test_a_follower_mail_is_multipart_alternative_with_text_then_html() -> None:
    message = parse(build())
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert text.get_content().replace("\r\n", "\n") == "Dear bob,\nalice is now a follower.\n"
    assert html.get_content().replace("\r\n", "\n") == "<p>Dear bob,</p>"


def test_the_mail_carries_message_id_date_and_auto_submitted() -> None:
    message = parse(build())
    assert message["Message-ID"] == "<e1.follower_email@example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert email.utils.parsedate_to_datetime(message["Date"]) == NOW
    assert message["From"] == "Microblog <admin@example.com>"
    assert message["To"] == "bob@example.com"


def test_chinese_text_arrives_intact_in_subject_and_both_parts() -> None:
    subject = "[microblog] 张三 is now following you! " + "很长的主题" * 20
    message = parse(build(subject=subject, text="亲爱的李四，\n张三关注了你。\n", html="<p>张三关注了你。</p>"))
    assert message["Subject"] == subject
    text, html = message.iter_parts()
    assert "张三关注了你。" in text.get_content()
    assert "<p>张三关注了你。</p>" in html.get_content()
    assert all(len(line) <= 998 for line in build(subject=subject).split(b"\r\n"))


def test_the_raw_message_is_ascii_with_crlf_line_ends() -> None:
    raw = build(text="naïve café\n", subject="café")
    raw.decode("ascii")
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_a_subject_with_line_breaks_cannot_add_a_header() -> None:
    message = parse(build(subject="hello\r\nBcc: victim@example.com\r\nX-Evil: 1"))
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert "Bcc: victim@example.com" in message["Subject"]


def test_an_ascii_subject_that_looks_like_an_encoded_word_is_encoded() -> None:
    assert encode_header_value("=?utf-8?b?SGk=?=").startswith("=?utf-8?b?")


@pytest.mark.parametrize(
    "address",
    ["bob@example.com\r\nBcc: x@y.z", "bob@example.com, eve@example.com", "<bob@example.com>", "no-at-sign", "a@b@c"],
)
def test_a_recipient_that_is_not_one_plain_address_is_refused(address: str) -> None:
    with pytest.raises(BadAddress):
        smtp_address(address)


def test_an_internationalised_domain_is_sent_in_idna_form() -> None:
    assert smtp_address("bob@例え.jp") == "bob@xn--r8jz45g.jp"


def test_a_non_ascii_local_part_stays_as_it_is_for_smtputf8() -> None:
    assert smtp_address("张三@例子.example") == "张三@xn--fsqu00a.example"


def test_an_internationalised_domain_uses_idna_2008_not_2003() -> None:
    assert smtp_address("x@faß.de") == "x@xn--fa-hia.de"  # IDNA 2003 would make it fass.de, another domain
    assert smtp_address("x@BÜCHER.example") == "x@xn--bcher-kva.example"  # UTS #46 maps case


@pytest.mark.parametrize("address", ["x@exa mple.com", "x@-bad-.com\u0000", "bob@ex\u200dample.com"])
def test_a_domain_idna_refuses_is_a_bad_address_naming_only_its_domain(address: str) -> None:
    with pytest.raises(BadAddress) as raised:
        smtp_address(address)
    assert "x@" not in str(raised.value) and "bob@" not in str(raised.value)


def test_the_message_id_depends_only_on_the_event_and_kind() -> None:
    first = message_id_for("e1", "follower_email", "example.com")
    assert first == message_id_for("e1", "follower_email", "example.com")
    assert first != message_id_for("e2", "follower_email", "example.com")


def test_a_plain_message_goes_to_every_recipient_listed() -> None:
    raw = build_plain(sender=Sender.parse("admin@example.com"), recipients=["a@example.com", "b@example.com"],
                      subject="alert", text="body\n", message_id="<x@example.com>", date=NOW)
    message = parse(raw)
    assert message["To"] == "a@example.com, b@example.com"
    assert message.get_content().replace("\r\n", "\n") == "body\n"
