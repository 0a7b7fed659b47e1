"""What an operator reads when the broker cannot be reached."""

from __future__ import annotations

import pika.exceptions
import pytest
from microblog_plumbing.brokers import broker_error, masked, split_amqp_urls
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
