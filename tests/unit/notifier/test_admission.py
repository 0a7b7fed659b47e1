"""Which messages the notifier takes at all, through its composition root: trusted publishers only,
nothing bigger than an event; and the notifier's own copies name it and their first publisher."""

from __future__ import annotations

from microblog_contracts import MAX_EVENT_BYTES
from notifier.admission import UNTRUSTED_PUBLISHER
from notifier.bootstrap import build_admission, build_topology
from notifier.broker import ORIGINAL_USER_HEADER
from notifier.failures import FailurePolicy
from notifier.pipeline import Outcome, Result
from notifier.settlement import Delivery, Settlement
from pika.spec import BasicProperties

from tests.support.fakes import FakeChannel
from tests.unit.notifier.conftest import unit_settings
from tests.unit.notifier.test_failures import topology

EVENT = b'{"specversion": "1.0"}'


def as_published_by(user: str | None) -> BasicProperties:
    return BasicProperties(message_id="event-1", user_id=user, headers={})


def test_by_default_the_relays_user_and_the_notifiers_own_are_trusted_and_nobody_else() -> None:
    admission = build_admission(unit_settings(amqp_url="amqp://mail:secret@mq:5672/%2F"))
    assert admission.refusal(as_published_by("mail"), EVENT) is None
    assert admission.refusal(as_published_by("relay"), EVENT) is None
    refused = admission.refusal(as_published_by("guest"), EVENT)
    assert refused is not None and refused.kind == UNTRUSTED_PUBLISHER and not refused.transient
    assert "'guest'" in refused.detail


def test_the_setting_replaces_the_default_and_the_own_user_stays_trusted() -> None:
    admission = build_admission(unit_settings(amqp_url="amqp://notifier:x@mq/%2F",
                                              notifier_trusted_publishers="social-relay, importer"))
    for user in ("social-relay", "importer", "notifier"):
        assert admission.refusal(as_published_by(user), EVENT) is None, user
    for user in ("relay", "intruder"):
        assert admission.refusal(as_published_by(user), EVENT) is not None, user


def test_a_message_that_names_no_publisher_is_refused() -> None:
    refused = build_admission(unit_settings()).refusal(as_published_by(None), EVENT)
    assert refused is not None and refused.kind == UNTRUSTED_PUBLISHER
    assert "no user_id" in refused.detail


def test_a_body_over_the_largest_event_is_refused_as_too_large_whatever_it_holds() -> None:
    admission = build_admission(unit_settings())
    assert admission.refusal(as_published_by("guest"), b"x" * MAX_EVENT_BYTES) is None
    refused = admission.refusal(as_published_by("guest"), b"x" * (MAX_EVENT_BYTES + 1))
    assert refused is not None and refused.kind == "unreadable.too_large" and not refused.transient


def test_the_trusted_publishers_may_be_a_json_list_as_admins_may() -> None:
    settings = unit_settings(amqp_url="amqp://n:x@mq/%2F", notifier_trusted_publishers='["relay", "ops"]')
    assert settings.trusted_publishers == {"relay", "ops", "n"}


def test_a_failures_copy_is_the_notifiers_own_and_keeps_the_first_publisher_in_a_header() -> None:
    publisher = FakeChannel()
    settlement = Settlement(FakeChannel(), publisher, FailurePolicy(topology(), max_attempts=3),
                            lambda *_a, **_k: None, as_user="notifier", clock=lambda: 0.0)
    failed = Result(Outcome.DEAD, failure=build_admission(unit_settings()).refusal(as_published_by("relay"), EVENT))
    for tag, properties in enumerate([as_published_by("relay"),
                                      BasicProperties(user_id="notifier", headers={ORIGINAL_USER_HEADER: "relay"}),
                                      as_published_by(None)], start=1):
        delivery = Delivery(generation=1, tag=tag, exchange="social.events", routing_key="user.followed",
                            properties=properties, body=EVENT, redelivered=False, received_at=0.0)
        settlement.track(delivery)
        settlement.settle([(delivery, failed)])

    copies = publisher.published
    assert [c.properties.user_id for c in copies] == ["notifier"] * 3
    assert [c.headers.get(ORIGINAL_USER_HEADER) for c in copies] == ["relay", "relay", None]


def test_the_work_queues_refuse_publishes_past_their_byte_bound_and_zero_leaves_the_bound_to_a_policy() -> None:
    declared = RecordingChannel()
    build_topology(unit_settings(notifier_queue_max_bytes=8 * 1024**2)).declare(declared)  # type: ignore[arg-type]
    work = declared.arguments["notifier.user-followed"]
    assert work["x-max-length-bytes"] == 8 * 1024**2 and work["x-overflow"] == "reject-publish"
    assert declared.arguments["notifier.user-followed.bulk"]["x-max-length-bytes"] == 8 * 1024**2
    assert "x-max-length-bytes" not in declared.arguments["notifier.user-followed.dead"]

    unbounded = RecordingChannel()
    build_topology(unit_settings(notifier_queue_max_bytes=0)).declare(unbounded)  # type: ignore[arg-type]
    assert "x-max-length-bytes" not in unbounded.arguments["notifier.user-followed"]


class RecordingChannel:
    """Takes a topology's declarations and keeps each queue's arguments."""

    def __init__(self) -> None:
        self.arguments: dict[str, dict[str, object]] = {}

    def exchange_declare(self, *_args: object, **_kwargs: object) -> None:
        pass

    def queue_bind(self, *_args: object, **_kwargs: object) -> None:
        pass

    def queue_declare(self, queue: str, durable: bool, arguments: dict[str, object]) -> None:
        self.arguments[queue] = arguments
