"""What an operator reads when the broker cannot be reached."""

from __future__ import annotations

import pika.exceptions
from notifier.consumer import broker_error
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
