"""The brokers `AMQP_URL` names, the order a process tries them in, and why a connection failed,
in one line an operator can act on.

`AMQP_URL` may list a cluster's nodes, comma-separated. Each process shuffles them once, so that
clients spread over the nodes, and tries them in turn: a reconnect starts with the node after the
one it was connected to, so the node that just died is tried last, not first. Between rounds in
which no node answered, the caller waits its capped backoff (:mod:`microblog_plumbing.backoff`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import pika

T = TypeVar("T")
C = TypeVar("C")


def broker_error(error: BaseException | str) -> str:
    """One line naming a broker failure. pika's AMQPConnectionError prints as nothing: its cause
    (a refused socket, a refused login, a missing vhost) is in its args, so they are spelled out."""
    if isinstance(error, str | NoBrokerAnswered):
        return str(error)
    if type(error).__module__.startswith("pika."):
        details = [repr(arg) if isinstance(arg, BaseException) else str(arg) for arg in error.args]
        detail = "; ".join(d for d in details if d)
    else:
        detail = str(error)
    return f"{type(error).__name__}: {detail or 'no detail'}"


def split_amqp_urls(value: str) -> list[str]:
    """The brokers an `AMQP_URL` names: one URL, or several separated by commas (a cluster's
    nodes). Raises ValueError naming a malformed entry, with its password masked."""
    urls = [part.strip() for part in value.split(",")]
    if not any(urls):
        raise ValueError("no broker URL given (e.g. amqp://user:password@localhost:5672/%2F)")
    for url in urls:
        check_amqp_url(url)
    return urls


def check_amqp_url(url: str) -> None:
    """ValueError, naming `url` with its password masked, unless pika can connect with it."""
    import pika  # only the commands that talk to a broker pay for pika's import

    shown = masked(url)
    if not url.startswith(("amqp://", "amqps://")):
        raise ValueError(f"{shown!r} is not an AMQP URL: it must start with amqp:// or amqps://")
    try:
        parameters = pika.URLParameters(url)
    except Exception as exc:
        raise ValueError(f"{shown!r} is not a usable AMQP URL ({type(exc).__name__})") from None
    if not parameters.host:
        raise ValueError(f"{shown!r} names no host")


def masked(url: str) -> str:
    """`url` with the password, if any, shown as `***`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{location}"


class NoBrokerAnswered(Exception):
    """None of several brokers could be connected to; says what each one answered."""

    def __init__(self, failures: Sequence[tuple[str, BaseException]]) -> None:
        self.failures = list(failures)
        super().__init__("no broker answered: " + "; ".join(f"{where}: {broker_error(exc)}" for where, exc in failures))


class Failover(Generic[T]):
    """A cluster's brokers (or the one broker) in the order to try them: shuffled once, so that the
    clients of a cluster spread over its nodes; after a connection, the next attempt starts with the
    node after the one connected to (a reconnect follows a lost connection, so that node goes last).
    """

    def __init__(self, brokers: Sequence[T], *, where: Callable[[T], str] = str,
                 rng: random.Random | None = None) -> None:
        if not brokers:
            raise ValueError("no broker to connect to")
        self._brokers = list(brokers)
        (rng or random.Random()).shuffle(self._brokers)
        self._where = where
        self._next = 0
        self.connected_to: T | None = None

    def __len__(self) -> int:
        return len(self._brokers)

    def where(self, broker: T) -> str:
        """How logs and errors name `broker` (host and port, never a password)."""
        return self._where(broker)

    @property
    def connected_name(self) -> str | None:
        """How logs name the broker last connected to (None before the first connection)."""
        return None if self.connected_to is None else self._where(self.connected_to)

    def candidates(self) -> list[T]:
        """Every broker once, in the order to try them now."""
        return self._brokers[self._next:] + self._brokers[: self._next]

    def connected(self, broker: T) -> None:
        """A connection to `broker` is open: the next round starts with the one after it."""
        self.connected_to = broker
        self._next = (self._brokers.index(broker) + 1) % len(self._brokers)

    def connect(self, open_one: Callable[[T], C], errors: tuple[type[BaseException], ...]) -> C:
        """The connection `open_one` makes to the first broker that answers, trying each once.

        When none answers, one broker's error is raised as it is; several brokers' errors are
        raised together as :class:`NoBrokerAnswered`, each named.
        """
        failures: list[tuple[T, BaseException]] = []
        for broker in self.candidates():
            try:
                connection = open_one(broker)
            except errors as exc:
                failures.append((broker, exc))
                continue
            self.connected(broker)
            return connection
        if len(failures) == 1:
            raise failures[0][1]
        raise NoBrokerAnswered([(self._where(broker), exc) for broker, exc in failures])


def amqp_brokers(amqp_url: str, *, connection_name: str, heartbeat: int | None = None,
                 blocked_connection_timeout: float | None = None,
                 rng: random.Random | None = None) -> Failover[pika.URLParameters]:
    """The brokers of `amqp_url` as pika parameters: one attempt each (the failover and the
    caller's backoff do the retrying), a 5 s socket timeout, the connection named for the broker's
    management UI; the heartbeat and blocked-connection timeout when given, else pika's."""
    import pika

    def parameters(url: str) -> pika.URLParameters:
        params = pika.URLParameters(url)
        params.connection_attempts = 1
        params.socket_timeout = 5
        params.client_properties = {"connection_name": connection_name}
        if heartbeat is not None:
            params.heartbeat = heartbeat
        if blocked_connection_timeout is not None:
            params.blocked_connection_timeout = blocked_connection_timeout
        return params

    return Failover([parameters(url) for url in split_amqp_urls(amqp_url)], where=host_and_port, rng=rng)


def host_and_port(parameters: pika.URLParameters) -> str:
    """`host:port` of a broker's parameters: how logs name it."""
    return f"{parameters.host}:{parameters.port}"
