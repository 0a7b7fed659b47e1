"""What goes out: the From address of each policy, and a DKIM signature a receiver can verify."""

from __future__ import annotations

import email
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from notifier.bootstrap import build_composer
from notifier.kinds import discover
from notifier.kinds.follower_email import KIND as FOLLOWER
from notifier.kinds.password_reset import KIND as RESET
from notifier.render import Renderer

from tests.support.events import reset_requested, user_followed
from tests.unit.notifier.conftest import unit_settings

RENDERER = Renderer(discover().names)


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, bytes]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return path, public


def test_each_policy_of_mail_has_its_own_from_address_defaulting_to_the_default_sender() -> None:
    composer = build_composer(unit_settings(mail_default_sender="Microblog <hello@example.com>",
                                            mail_transactional_sender="Microblog <account@example.com>"))
    follow = FOLLOWER.mail_for(user_followed())
    reset = RESET.mail_for(reset_requested())
    follow_sender, follow_bytes = composer.compose(follow, RENDERER.render(follow), "<m1@example.com>",
                                                   follow.occurred_at)
    reset_sender, _ = composer.compose(reset, RENDERER.render(reset), "<m2@example.com>", reset.occurred_at)
    assert (reset_sender.address, follow_sender.address) == ("account@example.com", "hello@example.com")
    assert email.message_from_bytes(follow_bytes)["From"] == "Microblog <hello@example.com>"


def test_a_signed_mail_verifies_with_the_public_key_and_covers_the_unsubscribe_headers(
        key: tuple[Path, bytes]) -> None:
    path, public = key
    composer = build_composer(unit_settings(mail_dkim_key_file=str(path), mail_dkim_selector="mail2026",
                                            mail_dkim_domain="example.com"))
    mail = FOLLOWER.mail_for(user_followed())
    _, message = composer.compose(mail, RENDERER.render(mail), "<m1@example.com>", mail.occurred_at)
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail2026._domainkey.example.com."
        return record

    assert dkim.verify(message, dnsfunc=dns)
    signature = email.message_from_bytes(message)["DKIM-Signature"]
    signed = {h.strip().lower() for h in signature.split("h=")[1].split(";")[0].replace("\r\n", "").split(":")}
    assert {"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} <= signed
    tampered = message.replace(b"Subject: ", b"Subject: FREE MONEY ", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_dkim_settings_come_together_or_not_at_all() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="together"):
        unit_settings(mail_dkim_selector="mail2026")
