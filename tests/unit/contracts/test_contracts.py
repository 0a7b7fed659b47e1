from __future__ import annotations

import json
from pathlib import Path

import pytest
from microblog_contracts import DecodeFailure, EventDecodeError, UserFollowed, decode_event
from microblog_contracts.schemas import schema_documents

from tests.support.events import user_followed

SCHEMAS = Path(__file__).resolve().parents[3] / "contracts" / "schemas"


def test_the_committed_json_schemas_match_the_models() -> None:
    documents = schema_documents()
    committed = {p.name: p.read_text() for p in SCHEMAS.glob("*.json")}
    assert committed == documents, "contracts/schemas/ drifted from the models: run `make schemas`"


def test_an_event_survives_the_round_trip_through_json() -> None:
    event = user_followed(follower="张三", about_me="写诗的人")
    decoded = decode_event(event.to_json_bytes())
    assert isinstance(decoded, UserFollowed)
    assert decoded == event


def test_the_envelope_is_a_structured_cloudevent() -> None:
    document = json.loads(user_followed().to_json_bytes())
    assert document["specversion"] == "1.0"
    assert document["type"] == "user.followed"
    assert document["datacontenttype"] == "application/json"
    assert document["source"] == "/microblog/social"
    assert {"id", "time", "dataschema", "data"} <= document.keys()


def test_fields_a_consumer_does_not_know_are_ignored() -> None:
    document = json.loads(user_followed().to_json_bytes())
    document["newattribute"] = "x"
    document["data"]["follower"]["pronouns"] = "they"
    document["data"]["mood"] = "happy"
    assert isinstance(decode_event(json.dumps(document).encode()), UserFollowed)


def mutate(change: dict[str, object]) -> bytes:
    document = json.loads(user_followed().to_json_bytes())
    document.update(change)
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (b"\xff\xfe", DecodeFailure.NOT_JSON),
        (b"[1, 2]", DecodeFailure.NOT_CLOUDEVENT),
        (b'{"specversion": "1.0"}', DecodeFailure.NOT_CLOUDEVENT),
        (mutate({"type": "user.poked"}), DecodeFailure.UNKNOWN_TYPE),
        (mutate({"dataschema": "urn:microblog:schema:user.followed:99"}), DecodeFailure.UNKNOWN_VERSION),
        (mutate({"data": {"follower": {}}}), DecodeFailure.INVALID_DATA),
        (mutate({"id": "has spaces and\nnewlines"}), DecodeFailure.INVALID_DATA),
        (mutate({"time": "2026-01-01T00:00:00"}), DecodeFailure.INVALID_DATA),
        (b" " * (64 * 1024 + 1), DecodeFailure.TOO_LARGE),
    ],
)
def test_unreadable_bodies_are_refused_with_a_named_reason(body: bytes, failure: DecodeFailure) -> None:
    with pytest.raises(EventDecodeError) as caught:
        decode_event(body)
    assert caught.value.failure is failure


def test_a_nickname_cannot_carry_a_line_break_into_a_mail_header() -> None:
    document = json.loads(user_followed().to_json_bytes())
    document["data"]["follower"]["nickname"] = "eve\r\nBcc: victim@example.com"
    with pytest.raises(EventDecodeError):
        decode_event(json.dumps(document).encode())


def test_a_profile_url_must_be_http() -> None:
    document = json.loads(user_followed().to_json_bytes())
    document["data"]["follower"]["profile_url"] = "javascript:alert(1)"
    with pytest.raises(EventDecodeError):
        decode_event(json.dumps(document).encode())


def test_a_follow_of_version_1_from_before_profiles_still_decodes() -> None:
    from microblog_contracts import UserFollowedV1

    from tests.support.events import user_followed_v1

    old = user_followed_v1()
    assert isinstance(decode_event(old.to_json_bytes()), UserFollowedV1)


def test_ids_past_63_bits_are_refused_as_invalid_data() -> None:
    document = json.loads(user_followed().to_json_bytes())
    document["data"]["followed"]["user_id"] = 2**63
    with pytest.raises(EventDecodeError) as caught:
        decode_event(json.dumps(document).encode())
    assert caught.value.failure is DecodeFailure.INVALID_DATA


def test_every_event_the_services_exchange_survives_the_round_trip() -> None:
    from tests.support.events import change_requested, confirmation_requested, profile, profile_changed, reset_requested

    for event in (profile_changed(profile()), confirmation_requested(), reset_requested(), change_requested()):
        assert decode_event(event.to_json_bytes()) == event


@pytest.mark.parametrize("depth", [5_000, 30_000])
def test_json_nested_past_any_event_is_unreadable_not_a_crash(depth: int) -> None:
    document = json.loads(user_followed().to_json_bytes())
    body = json.dumps(document).replace('"about_me": "I write about birds."',
                                        '"about_me": ' + "[" * depth + "]" * depth).encode()
    assert len(body) < 65_536
    with pytest.raises(EventDecodeError) as raised:
        decode_event(body)
    assert raised.value.failure in (DecodeFailure.NOT_JSON, DecodeFailure.INVALID_DATA)
