"""Saying why a broker connection failed, in one line an operator can act on."""

from __future__ import annotations


def broker_error(error: BaseException | str) -> str:
    """One line naming a broker failure. pika's AMQPConnectionError prints as nothing: its cause
    (a refused socket, a refused login, a missing vhost) is in its args, so they are spelled out."""
    if isinstance(error, str):
        return error
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
