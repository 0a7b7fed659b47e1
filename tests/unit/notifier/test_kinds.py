"""Mail kinds: found by the event type they handle, one module each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from notifier.kinds import KindRegistry, Policy, discover
from notifier.kinds.follower_email import KIND as FOLLOWER

from tests.support.events import user_followed


def test_every_kind_module_is_found_and_the_follower_email_handles_user_followed() -> None:
    kinds = discover()
    assert "follower_email" in kinds.names
    assert kinds.for_event("user.followed") is FOLLOWER
    assert "user.followed" in kinds.event_types
    assert kinds.for_event("user.poked") is None


def test_the_follower_email_goes_to_the_followed_user_about_the_pair() -> None:
    event = user_followed(follower_id=7, followed_id=8, followed="Bob", email="Bob@Example.com", locale="zh-CN")
    mail = FOLLOWER.mail_for(event)
    assert FOLLOWER.policy is Policy.NOTIFICATION
    assert (mail.kind, mail.event_id, mail.cooldown_subject) == ("follower_email", event.id, "7:8")
    assert (mail.recipient.address, mail.recipient.nickname, mail.recipient.locale) == (
        "bob@example.com", "Bob", "zh-CN")
    assert mail.recipient.domain == "example.com"


@dataclass(frozen=True)
class Clash:
    name: str = "clash"
    policy: Policy = Policy.NOTIFICATION
    event_types: frozenset[str] = frozenset({"user.followed"})

    def mail_for(self, event: object) -> object:
        raise NotImplementedError


def test_two_kinds_may_not_claim_one_event_type() -> None:
    with pytest.raises(ValueError, match=r"user\.followed is claimed by both"):
        KindRegistry([FOLLOWER, Clash()])  # type: ignore[list-item]
