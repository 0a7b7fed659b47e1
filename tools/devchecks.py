"""What `make run` checks before it starts anything: its ports are free, and the broker in
AMQP_URL takes its login and has its vhost. Each check returns the lines to print (one per
problem, saying what to change), or none.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pika
import pika.exceptions
from microblog_plumbing.brokers import masked, split_amqp_urls

#: What to do when no broker answers.
START_A_BROKER = ("start one with `rabbitmq-server -detached` or `docker compose up -d rabbitmq`, "
                  "then run `make run` again")


@dataclass(frozen=True)
class Listener:
    """A port one of `make run`'s processes listens on, and the variable that moves it."""

    what: str
    variable: str
    host: str
    port: int

    def setting(self, port: int) -> str:
        """The variable's value with another port, as it is typed: `SOCIAL_BIND=127.0.0.1:5001`."""
        return f"{self.variable}={port}" if self.variable == "MAIL_PORT" else f"{self.variable}={self.host}:{port}"


def listeners(env: dict[str, str]) -> tuple[list[Listener], list[str]]:
    """The ports `env` gives the web, the mail sink and the probes; and a line for each value that
    is not a port."""
    found, problems = [], []
    binds = [("the web", "SOCIAL_BIND"), ("the notifier's probes", "NOTIFIER_HTTP_BIND"),
             ("the relay's probes", "RELAY_HTTP_BIND")]
    for what, variable in binds:
        host, _, port = env[variable].rpartition(":")
        if port.isdigit() and 0 < int(port) < 65536:
            found.append(Listener(what, variable, host or "0.0.0.0", int(port)))  # noqa: S104
        else:
            problems.append(f"make run: {variable}={env[variable]!r} is not HOST:PORT (e.g. 127.0.0.1:5000)")
    port = env["MAIL_PORT"]
    if port.isdigit() and 0 < int(port) < 65536:
        found.append(Listener("the mail sink", "MAIL_PORT", "127.0.0.1", int(port)))
    else:
        problems.append(f"make run: MAIL_PORT={port!r} is not a port number (e.g. 8025)")
    return found, problems


def port_problems(wanted: list[Listener]) -> list[str]:
    """A line for each port that is taken (naming its variable and a free value for it), or that
    two of ours share."""
    problems = []
    seen: dict[int, Listener] = {}
    avoid = {listener.port for listener in wanted}  # ours, and each port already suggested
    for listener in wanted:
        if listener.port in seen:
            problems.append(f"make run: {seen[listener.port].variable} and {listener.variable} both use port "
                            f"{listener.port}; give one of them another port")
            continue
        seen[listener.port] = listener
        error = bind_error(listener.host, listener.port)
        if error == errno.EADDRINUSE:
            spare = free_port_after(listener, avoid)
            avoid.add(spare)
            problems.append(f"make run: port {listener.port} ({listener.what}, {listener.variable}) is in use by "
                            f"another program; stop it, or choose another port: `{listener.setting(spare)} make run`")
        elif error is not None:
            problems.append(f"make run: cannot listen on {listener.host}:{listener.port} ({listener.what}, "
                            f"{listener.variable}): {error}; set {listener.variable} to an address of this machine")
    return problems


def bind_error(host: str, port: int) -> int | str | None:
    """None if a server could listen on host:port now; EADDRINUSE if something listens there;
    else what the system said. SO_REUSEADDR as our servers set it: a port a stopped run left in
    TIME_WAIT counts as free, as it is to them."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        return exc.strerror
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.errno if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
    return None


def free_port_after(listener: Listener, avoid: set[int]) -> int:
    """The first port above the listener's that is free now and not in `avoid` (for the hint)."""
    for port in range(listener.port + 1, min(listener.port + 100, 65536)):
        if port not in avoid and bind_error(listener.host, port) is None:
            return port
    return listener.port + 1


def broker_problem(amqp_url: str) -> str | None:
    """None if a broker of `amqp_url` takes its login and opens its vhost; else one line saying
    what was refused and how to fix it. Several URLs (a cluster): one that opens is enough."""
    try:
        urls = split_amqp_urls(amqp_url)
    except ValueError as exc:
        return f"make run: AMQP_URL: {exc}"
    problems = []
    for url in urls:
        parameters = pika.URLParameters(url)
        parameters.connection_attempts, parameters.socket_timeout = 1, 3
        parameters.blocked_connection_timeout = 3
        try:
            pika.BlockingConnection(parameters).close()
            return None
        except pika.exceptions.ProbableAuthenticationError:
            problems.append(_login_refused(parameters, url))
        except pika.exceptions.ProbableAccessDeniedError as exc:
            problems.append(_vhost_refused(parameters, url, str(exc)))
        except (pika.exceptions.AMQPError, OSError):
            pass
    if problems:
        return problems[0]
    where = ", ".join(f"{p.host}:{p.port}" for p in map(pika.URLParameters, urls))
    return f"make run: no RabbitMQ answers at {where} (AMQP_URL); {START_A_BROKER}."


def _user(url: str) -> str:
    return unquote(urlsplit(url).username or "guest")


def _login_refused(parameters: pika.URLParameters, url: str) -> str:
    user, host = _user(url), parameters.host
    hint = " (RabbitMQ lets guest log in from localhost only)" if user == "guest" and host not in (
        "localhost", "127.0.0.1", "::1") else ""
    return (f"make run: RabbitMQ at {host}:{parameters.port} refused the login of user {user!r}{hint} "
            f"(AMQP_URL={masked(url)}): wrong user or password; put the right ones in AMQP_URL, or set the "
            f"password with `rabbitmqctl change_password {user} PASSWORD` (`rabbitmqctl add_user` for a new user)")


def _vhost_refused(parameters: pika.URLParameters, url: str, detail: str) -> str:
    user, vhost, shown_url = _user(url), parameters.virtual_host, masked(url)
    where = f"RabbitMQ at {parameters.host}:{parameters.port}"
    grant = f"`rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'`"
    if "not found" in detail:
        return (f"make run: {where} has no vhost {vhost!r} (AMQP_URL={shown_url}): create it with "
                f"`rabbitmqctl add_vhost {vhost}` and {grant}, or end AMQP_URL with /%2F for the default vhost /")
    return f"make run: {where} does not let user {user!r} use vhost {vhost!r} (AMQP_URL={shown_url}): {grant}"
