"""What an operator reads when the relay cannot reach the broker."""

from __future__ import annotations

import pika.exceptions
from microblog_plumbing.brokers import broker_error
from pika.adapters.utils.connection_workflow import AMQPConnectorSocketConnectError


def test_a_refused_socket_is_named_though_pika_prints_its_error_as_nothing() -> None:
    refused = AMQPConnectorSocketConnectError(ConnectionRefusedError(111, "Connection refused"))
    error = pika.exceptions.AMQPConnectionError(refused)
    assert str(error) == ""  # what the relay used to log
    assert "Connection refused" in broker_error(error)
    assert broker_error(error).startswith("AMQPConnectionError: ")


def test_a_broker_closing_the_connection_keeps_its_code_and_text() -> None:
    closed = pika.exceptions.ConnectionClosedByBroker(320, "CONNECTION_FORCED - broker forced connection closure")
    assert broker_error(closed) == "ConnectionClosedByBroker: 320; CONNECTION_FORCED - broker forced connection closure"


def test_text_is_passed_through_and_an_empty_error_says_so() -> None:
    assert broker_error("timed out") == "timed out"
    assert broker_error(pika.exceptions.AMQPConnectionError()) == "AMQPConnectionError: no detail"
