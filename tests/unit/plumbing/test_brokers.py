"""What an operator reads when the broker cannot be reached, and which broker of several a
process connects to."""

from __future__ import annotations

import random
from collections import Counter

import pika
import pika.exceptions
import pytest
from microblog_plumbing.backoff import Backoff
from microblog_plumbing.brokers import (
    Failover,
    NoBrokerAnswered,
    amqp_brokers,
    broker_error,
    masked,
    split_amqp_urls,
)
from pika.adapters.utils.connection_workflow import AMQPConnectorSocketConnectError


def test_a_refused_socket_is_named_though_pika_prints_its_error_as_nothing() -> None:
    refused = AMQPConnectorSocketConnectError(ConnectionRefusedError(111, "Connection refused"))
    line = broker_error(pika.exceptions.AMQPConnectionError(refused))
    assert line.startswith("AMQPConnectionError: ")
    assert "Connection refused" in line


def test_a_refused_login_keeps_the_brokers_reason() -> None:
    refusal = pika.exceptions.ProbableAuthenticationError("ConnectionClosedByBroker: (403) 'ACCESS_REFUSED'")
    assert broker_error(refusal) == "ProbableAuthenticationError: ConnectionClosedByBroker: (403) 'ACCESS_REFUSED'"


def test_other_errors_read_as_themselves_and_an_empty_one_says_so() -> None:
    assert broker_error(ConnectionResetError(104, "reset")) == "ConnectionResetError: [Errno 104] reset"
    assert broker_error(pika.exceptions.AMQPConnectionError()) == "AMQPConnectionError: no detail"


def test_several_brokers_may_be_listed_and_a_bad_entry_is_named_with_its_password_masked() -> None:
    assert split_amqp_urls("amqp://u:p@mq1:5672/%2F, amqp://u:p@mq2:5672/%2F") == [
        "amqp://u:p@mq1:5672/%2F", "amqp://u:p@mq2:5672/%2F"]
    with pytest.raises(ValueError, match=r"'http://u:\*\*\*@mq3' is not an AMQP URL") as caught:
        split_amqp_urls("amqp://u:p@mq1/%2F,http://u:s3cret@mq3")
    assert "s3cret" not in str(caught.value)
    assert masked("amqp://guest@mq1/") == "amqp://guest@mq1/"


def test_a_broker_closing_the_connection_keeps_its_code_and_text() -> None:
    closed = pika.exceptions.ConnectionClosedByBroker(320, "CONNECTION_FORCED - broker forced connection closure")
    assert broker_error(closed) == "ConnectionClosedByBroker: 320; CONNECTION_FORCED - broker forced connection closure"
    assert broker_error("timed out") == "timed out"


# -- which broker a process connects to ------------------------------------------------------------

NODES = ["mq1", "mq2", "mq3"]


class Refused(ConnectionRefusedError):
    pass


class FakeBrokers:
    """Brokers by name that answer or refuse; records each connection attempt."""

    def __init__(self, *down: str) -> None:
        self.down = set(down)
        self.attempts: list[str] = []

    def open(self, broker: str) -> str:
        self.attempts.append(broker)
        if broker in self.down:
            raise Refused(111, f"{broker} refused")
        return f"connection to {broker}"


def test_each_process_shuffles_the_brokers_once_so_that_clients_spread_over_the_nodes() -> None:
    firsts = Counter(Failover(NODES, rng=random.Random(seed)).candidates()[0] for seed in range(300))
    assert set(firsts) == set(NODES)
    assert min(firsts.values()) > 60, firsts
    failover = Failover(NODES, rng=random.Random(7))
    assert sorted(failover.candidates()) == NODES
    assert failover.candidates() == failover.candidates(), "the order is kept between attempts"


def test_a_broker_that_does_not_answer_is_passed_over_for_the_next() -> None:
    failover = Failover(NODES, rng=random.Random(1))
    first, second, _ = failover.candidates()
    brokers = FakeBrokers(first)
    assert failover.connect(brokers.open, (OSError,)) == f"connection to {second}"
    assert brokers.attempts == [first, second]
    assert failover.connected_to == second


def test_after_a_lost_connection_the_next_node_is_tried_first_and_the_one_that_died_last() -> None:
    failover = Failover(NODES, rng=random.Random(2))
    brokers = FakeBrokers()
    a, b, c = failover.candidates()
    assert failover.connect(brokers.open, (OSError,)) == f"connection to {a}"
    brokers.down = {a}  # the node dies under the connection
    assert failover.candidates() == [b, c, a]
    assert failover.connect(brokers.open, (OSError,)) == f"connection to {b}"
    assert brokers.attempts == [a, b]


def test_with_every_broker_down_each_is_named_with_its_error_and_no_password() -> None:
    failover = amqp_brokers("amqp://u:s3cret@mq1:5672/%2F,amqp://u:s3cret@mq2:5673/%2F", connection_name="t",
                            rng=random.Random(0))

    def refuse(parameters: pika.URLParameters) -> None:
        raise pika.exceptions.AMQPConnectionError(f"{parameters.host} refused")

    with pytest.raises(NoBrokerAnswered) as caught:
        failover.connect(refuse, (pika.exceptions.AMQPError,))
    line = broker_error(caught.value)
    assert line.startswith("no broker answered: ")
    assert "mq1:5672: AMQPConnectionError: mq1 refused" in line
    assert "mq2:5673: AMQPConnectionError: mq2 refused" in line
    assert "s3cret" not in line


def test_one_broker_down_raises_its_own_error_as_before() -> None:
    failover = Failover(["mq1"])
    with pytest.raises(Refused):
        failover.connect(FakeBrokers("mq1").open, (OSError,))


def test_a_round_in_which_no_broker_answered_is_followed_by_the_capped_backoff() -> None:
    """The reconnect loop every process runs: try each broker once, then wait, doubling up to the
    cap; a connection resets the wait."""
    failover = Failover(NODES, rng=random.Random(3))
    backoff = Backoff(initial=0.5, cap=2.0, rng=random.Random(0))
    brokers = FakeBrokers(*NODES)
    waits: list[float] = []
    for _ in range(4):
        try:
            failover.connect(brokers.open, (OSError,))
        except NoBrokerAnswered:
            waits.append(backoff.next_delay())
    assert len(brokers.attempts) == 12 and Counter(brokers.attempts) == dict.fromkeys(NODES, 4)
    assert all(0.8 * base <= w <= 1.2 * base for w, base in zip(waits, [0.5, 1.0, 2.0, 2.0], strict=True))
    brokers.down = set()
    assert failover.connect(brokers.open, (OSError,)).startswith("connection to ")
    backoff.reset()
    assert 0.4 <= backoff.next_delay() <= 0.6


def test_the_parameters_of_each_broker_try_once_and_carry_the_heartbeat_and_connection_name() -> None:
    failover = amqp_brokers("amqp://u:p@mq1:5672/%2F, amqp://u:p@mq2/vh", connection_name="notifier host1",
                            heartbeat=30, blocked_connection_timeout=60)
    assert sorted(failover.where(p) for p in failover.candidates()) == ["mq1:5672", "mq2:5672"]
    for parameters in failover.candidates():
        assert parameters.connection_attempts == 1
        assert parameters.heartbeat == 30
        assert parameters.blocked_connection_timeout == 60
        assert parameters.client_properties == {"connection_name": "notifier host1"}
    with pytest.raises(ValueError, match=r"'amqp://u:\*\*\*@mq3:port/%2F' is not a usable AMQP URL"):
        amqp_brokers("amqp://u:p@mq1/%2F,amqp://u:s3cret@mq3:port/%2F", connection_name="t")
