"""The relay's publisher over several brokers: pika's SelectConnection takes one broker, so the
publisher walks `AMQP_URL`'s list itself. A fake SelectConnection stands in for the network."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pika
import pika.exceptions
import pytest
from microblog_contracts import EXCHANGE
from pika.spec import Basic
from social.relay import publisher as publisher_module
from social.relay.publisher import Confirmation, ConfirmingPublisher, Outgoing

from tests.support.wait import wait_for
from tests.unit.social.fakes import RecordingBackoff

URLS = "amqp://u:p@mq1:5672/%2F,amqp://u:p@mq2:5672/%2F,amqp://u:p@mq3:5672/%2F"


class Network:
    """Which brokers answer; every attempt to connect, in order, and the connection now open."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.nacking = False  # every broker nacks what is published
        self.attempts: list[str] = []
        self.open: FakeSelectConnection | None = None
        self.lock = threading.Lock()


class FakeChannel:
    """Declares, turns confirms on, and acks (or, told to, nacks) each publish at once."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.is_open = True
        self.published = 0
        self._on_close: list[Callable[..., None]] = []
        self._on_confirm: Callable[..., None] | None = None

    def add_on_close_callback(self, callback: Callable[..., None]) -> None:
        self._on_close.append(callback)

    def add_on_return_callback(self, _callback: Callable[..., None]) -> None: ...

    def exchange_declare(self, _exchange: str, *, exchange_type: str, durable: bool,
                         callback: Callable[[Any], None]) -> None:
        callback(None)

    def confirm_delivery(self, *, ack_nack_callback: Callable[..., None], callback: Callable[[Any], None]) -> None:
        self._on_confirm = ack_nack_callback
        callback(None)

    def basic_publish(self, *_args: Any, **_kwargs: Any) -> None:
        self.published += 1
        answer = Basic.Nack if self.network.nacking else Basic.Ack
        assert self._on_confirm is not None
        self._on_confirm(pika.frame.Method(1, answer(delivery_tag=self.published)))

    def close(self) -> None:
        self.is_open = False
        for callback in self._on_close:
            callback(self, pika.exceptions.ChannelClosedByClient(200, "Normal shutdown"))


class FakeIoloop:
    def __init__(self, connection: FakeSelectConnection) -> None:
        self.connection = connection
        self.stopped = threading.Event()

    def start(self) -> None:
        self.connection.opening()
        self.stopped.wait()

    def stop(self) -> None:
        self.stopped.set()

    def add_callback_threadsafe(self, callback: Callable[[], None]) -> None:
        callback()


class FakeSelectConnection:
    """Opens at once if its broker is up, else fails to; `die()` is its node going away."""

    network: Network

    def __init__(self, parameters: pika.URLParameters, *, on_open_callback: Callable[..., None],
                 on_open_error_callback: Callable[..., None], on_close_callback: Callable[..., None]) -> None:
        self.host = parameters.host
        self.on_open, self.on_open_error, self.on_close = on_open_callback, on_open_error_callback, on_close_callback
        self.ioloop = FakeIoloop(self)
        self.is_open = False

    def opening(self) -> None:
        with self.network.lock:
            self.network.attempts.append(self.host)
            refused = self.host in self.network.down
            if not refused:
                self.network.open = self
        if refused:
            self.on_open_error(self, pika.exceptions.AMQPConnectionError(f"{self.host} refused"))
            return
        self.is_open = True
        self.on_open(self)

    def channel(self, *, on_open_callback: Callable[[FakeChannel], None]) -> None:
        on_open_callback(FakeChannel(self.network))

    def die(self) -> None:
        self.is_open = False
        self.on_close(self, pika.exceptions.StreamLostError("Transport indicated EOF"))

    def close(self) -> None:
        self.die()


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    network = Network()
    FakeSelectConnection.network = network
    monkeypatch.setattr(publisher_module, "SelectConnection", FakeSelectConnection)
    return network


@pytest.fixture
def backoff() -> RecordingBackoff:
    return RecordingBackoff(initial=0.01, cap=0.02)


@pytest.fixture
def publisher(network: Network, backoff: RecordingBackoff) -> Iterator[ConfirmingPublisher]:
    publisher = ConfirmingPublisher(URLS, EXCHANGE, backoff=backoff, rng=random.Random(4))
    yield publisher
    publisher.stop(timeout=5)


def order(publisher: ConfirmingPublisher) -> list[str]:
    return [p.host for p in publisher.brokers.candidates()]


def test_a_broker_that_does_not_answer_sends_the_publisher_to_the_next_at_once(
    network: Network, publisher: ConfirmingPublisher, backoff: RecordingBackoff
) -> None:
    first, second, _ = order(publisher)
    network.down = {first}
    publisher.start()
    assert publisher.wait_ready(5)
    assert network.attempts == [first, second]
    assert backoff.delays == [], "no wait while another broker of the round was left to try"


def test_when_its_node_dies_the_publisher_waits_its_backoff_and_goes_to_the_next_node(
    network: Network, publisher: ConfirmingPublisher, backoff: RecordingBackoff
) -> None:
    first, second, _ = order(publisher)
    publisher.start()
    assert publisher.wait_ready(5)
    network.down = {first}
    assert network.open is not None
    network.open.die()
    wait_for(lambda: len(network.attempts) == 2 and publisher.ready, timeout=5, what="a connection to another node")
    assert network.attempts == [first, second]
    assert len(backoff.delays) == 1
    assert publisher.brokers.connected_name == f"{second}:5672"


def test_with_every_node_down_the_publisher_backs_off_once_per_round_of_all_of_them(
    network: Network, publisher: ConfirmingPublisher, backoff: RecordingBackoff
) -> None:
    network.down = {"mq1", "mq2", "mq3"}
    publisher.start()
    wait_for(lambda: len(network.attempts) >= 9, timeout=5, what="three rounds of attempts")
    publisher.stop(timeout=5)
    rounds = [network.attempts[i:i + 3] for i in range(0, 9, 3)]
    assert all(sorted(r) == ["mq1", "mq2", "mq3"] for r in rounds), network.attempts
    assert 2 <= len(backoff.delays) <= len(network.attempts) // 3 + 1
    assert publisher.last_error is not None and "refused" in publisher.last_error
    assert "u:p@" not in publisher.last_error


def test_a_nack_leaves_the_event_pending_and_the_publisher_on_a_new_channel(
    network: Network, publisher: ConfirmingPublisher
) -> None:
    """RabbitMQ 3.10 nacks every later publish on a channel whose first one met a quorum queue
    between two leaders: a nacked publisher starts afresh instead of keeping that channel."""
    first, second, _ = order(publisher)
    publisher.start()
    assert publisher.wait_ready(5)
    event = Outgoing("event-1", "user.followed", b"{}", 0)
    network.nacking = True
    assert publisher.publish([event], timeout=5) == {"event-1": Confirmation.NACKED}
    wait_for(lambda: len(network.attempts) == 2 and publisher.ready, timeout=5, what="a new connection")
    assert network.attempts == [first, second]
    network.nacking = False
    assert publisher.publish([event], timeout=5) == {"event-1": Confirmation.CONFIRMED}
