"""4. End to end: follows through our API at a steady rate, timed from the follow's HTTP response
to the SMTP server's acceptance of its mail.

Matching is by event id: after the run the outbox table gives each event's id with its follower
and recipient, the sink reads the event id out of each mail's Message-ID
(`<EVENT_ID.follower_email@DOMAIN>`), and the load generator noted when each (follower,
recipient) follow was answered. Every follow has a follower of its own, so the pair is unique.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import services
from bench.config import Config
from bench.figures import Figure, Section, Target
from bench.httpload import Request, open_loop
from bench.infra import BenchError, postgres_database, rabbit_vhost, wait_for
from bench.seeding import outbox_pairs, seed_clients
from bench.sinks import TimestampingSink
from bench.stats import percentile, quantiles
from bench.workdir import scratch

P50_LIMIT_MS, P99_LIMIT_MS = 100.0, 500.0
MESSAGE_ID_KIND = ".follower_email@"


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'social.db'}"
    else:
        with postgres_database() as url:
            yield url


def one_run(config: Config, kind: str) -> tuple[dict[str, Any], list[float]]:
    follows = int(config.e2e_rate * config.e2e_seconds)
    with scratch(f"e2e-{kind}") as workdir, database(kind, workdir) as database_url, \
            rabbit_vhost("e2e") as amqp_url, TimestampingSink() as sink, ExitStack() as stack:
        services.upgrade_database(database_url, workdir)
        followers, targets = seed_clients(database_url, follows, 50)
        notifier, _ = services.notifier(amqp_url, sink.address, workdir, connections=8)
        stack.callback(notifier.stop)
        relay, _ = services.relay(database_url, amqp_url, workdir)
        stack.callback(relay.stop)
        web, base = services.web(database_url, amqp_url, workdir, workers=config.web_workers,
                                 threads=config.web_threads)
        stack.callback(web.stop)
        requests = (Request("PUT", f"/api/users/me/following/{targets[n % len(targets)].nickname}",
                            {"Authorization": f"Bearer {f.token}"}, (f.nickname, targets[n % len(targets)].email))
                    for n, f in enumerate(followers))
        load = open_loop(base, requests, rate=config.e2e_rate, seconds=config.e2e_seconds)
        answered = {o.request.tag: o.finished_at for o in load.outcomes if o.ok}
        try:
            wait_for(lambda: len(sink.accepted) >= len(answered), timeout=60, what=f"{len(answered)} mails")
        except BenchError as exc:
            raise BenchError(f"{exc}\n--- notifier:\n{notifier.tail()}\n--- relay:\n{relay.tail()}") from None
        pairs = outbox_pairs(database_url)
    latencies = []
    for mail in sink.accepted:
        event_id = mail.message_id.split(MESSAGE_ID_KIND, 1)[0]
        sent_at = answered.get(pairs.get(event_id))
        if sent_at is not None:
            latencies.append((mail.at - sent_at) * 1000)
    http_ms = [o.seconds * 1000 for o in load.outcomes if o.ok]
    summary = {"follows": len(load.outcomes), "errors": len(load.errors), "mails": len(sink.accepted),
               "matched": len(latencies), "achieved_rate": len(load.outcomes) / load.seconds,
               "p50_ms": percentile(latencies, 50), "p90_ms": percentile(latencies, 90),
               "p99_ms": percentile(latencies, 99), "max_ms": max(latencies, default=float("nan")),
               "http_p50_ms": percentile(http_ms, 50), "http_p99_ms": percentile(http_ms, 99)}
    return summary, latencies


def measure(config: Config) -> Section:
    started = time.monotonic()
    kinds = ["sqlite", "postgresql"] if config.postgres else ["sqlite"]
    section = Section(
        "e2e", "End to end: follow answered -> mail accepted",
        {"rate_per_s": config.e2e_rate, "seconds": config.e2e_seconds, "databases": kinds,
         "matching": "by event id: outbox row (event id -> follower, recipient) and the mail's Message-ID",
         "sink": "aiosmtpd in the bench process, timestamping each accepted message",
         "relay_wakeup": {"sqlite": "50 ms poll", "postgresql": "LISTEN/NOTIFY"}},
    )
    distributions: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(config.runs):
        run = {}
        for kind in kinds:
            run[kind], latencies = one_run(config, kind)
            distributions[kind].extend(latencies)
        section.runs.append(run)
    for kind in kinds:
        label = "SQLite" if kind == "sqlite" else "PostgreSQL"
        section.figures.append(Figure.of("e2e", f"follow -> mail p50, {label}", "ms",
                                         [r[kind]["p50_ms"] for r in section.runs], P50_LIMIT_MS, "limit",
                                         Target("below", P50_LIMIT_MS, "< 100 ms")))
        section.figures.append(Figure.of("e2e", f"follow -> mail p99, {label}", "ms",
                                         [r[kind]["p99_ms"] for r in section.runs], P99_LIMIT_MS, "limit",
                                         Target("below", P99_LIMIT_MS, "< 500 ms")))
        section.figures.append(Figure.of("e2e", f"follows unmatched to a mail, {label}", "count",
                                         [r[kind]["follows"] - r[kind]["matched"] for r in section.runs], None, "—",
                                         Target("below", 1, "0")))
    section.series = {"latency_ms_percentiles": {k: quantiles(vs) for k, vs in distributions.items()}}
    section.seconds = time.monotonic() - started
    return section
