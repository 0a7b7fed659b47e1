"""structlog set-up for every process: JSON lines in production, readable lines in a terminal.

A busy process writes a line per message it settles, thousands a second, so structlog's own lines
go straight to stderr (about 8 µs a line) rather than through the stdlib logging machinery (about
22 µs). Libraries' stdlib records (gunicorn's, pika's, SQLAlchemy's) are rendered the same way by
a handler of their own.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

LogFormat = Literal["auto", "json", "console"]
#: Libraries that say too much: the level from which their records reach the log. pika logs every
#: failed connection attempt as an error; the processes report broker trouble themselves, once.
_QUIET_LIBRARIES = {"pika": logging.CRITICAL, "alembic.runtime.migration": logging.WARNING}


#: An e-mail address anywhere in a line's text: the logs keep its domain only.
_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"'@=]+@([A-Za-z0-9\u0080-\uffff-]+(?:\.[A-Za-z0-9\u0080-\uffff-]+)+)")


def redact(text: str) -> str:
    """`text` with every e-mail address in it shortened to its domain: `…@example.com`."""
    return _ADDRESS.sub(r"…@\1", text) if "@" in text else text


def redact_addresses(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Every address in a line (its message, fields, a traceback's text) shortened to its domain.
    Logs are read by more people, and kept longer, than the mail is."""
    for key, value in event.items():
        if isinstance(value, str) and "@" in value:
            event[key] = _ADDRESS.sub(r"…@\1", value)
    return event


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that knows the name it was asked for, for `add_logger_name`."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


def _factory(*args: Any) -> _NamedWriteLogger:
    return _NamedWriteLogger(sys.stderr, str(args[0]) if args else "microblog")


def configure_logging(fmt: LogFormat = "auto", level: str = "info") -> None:
    """Our lines and the libraries' to stderr, as JSON unless stderr is a terminal."""
    as_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    numeric = logging.getLevelName(level.upper())
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json
        # A plain traceback: rich's, with every frame's locals, runs to hundreds of lines and
        # prints whatever those locals hold (addresses, message bodies).
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(),
                                           exception_formatter=structlog.dev.plain_traceback)
    )
    # Tracebacks become text before the addresses in them are redacted, in both formats.
    exceptions: list[structlog.types.Processor] = [structlog.processors.format_exc_info, redact_addresses]
    structlog.configure(
        processors=[*shared, *exceptions, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_factory,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name, floor in _QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(floor)
