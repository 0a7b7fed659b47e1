"""1. Follow latency: the API follow under 1, 8 and 32 clients, ours against the tutorial's
seed app in its three modes, all under the same gunicorn (gthread, same workers and threads), on
SQLite (the default, where the targets are judged); then ours and the bare follow again on
PostgreSQL, for information: SQLite has one write lock for the whole database."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import services
from bench.config import Config
from bench.figures import Figure, Section, Target
from bench.httpload import LoadResult, Request, closed_loop
from bench.infra import BenchError, free_port, port_open, postgres_database, rabbit_vhost, wait_for
from bench.procs import Proc, python, script
from bench.seeding import seed_clients
from bench.sinks import ANCHORS, slow_sink
from bench.stats import percentile, quantiles
from bench.workdir import scratch

CONTESTANTS = ("none", "thread", "sync", "ours")
#: Run again on PostgreSQL when the config has it: the bare follow and ours.
ON_POSTGRES = ("none", "ours")
PG = " (PostgreSQL)"
SEED_USERS = 1000  # seed_app.py init makes u0..u999


def seed_requests() -> Iterator[Request]:
    """GET /follow/<a>/<b>, a distinct pair each time (good for 999,000 requests)."""
    for n in itertools.count():
        a = n % SEED_USERS
        b = (a + 1 + n // SEED_USERS) % SEED_USERS
        yield Request("GET", f"/follow/u{a}/u{b}", {})


def requests_needed(config: Config) -> int:
    return config.latency_warmup + sum(config.concurrency) + len(config.concurrency) * config.latency_requests + 10


def measure_levels(config: Config, base_url: str, requests: Iterator[Request]) -> dict[int, LoadResult]:
    """Warm up, then one closed-loop load per concurrency level."""
    closed_loop(base_url, requests, clients=min(4, config.latency_warmup), max_requests=config.latency_warmup,
                max_seconds=30)
    return {c: closed_loop(base_url, requests, clients=c, max_requests=config.latency_requests,
                           max_seconds=config.latency_seconds) for c in config.concurrency}


def run_seed_app(config: Config, mode: str, workdir: Path, mail_port: int,
                 database_url: str | None = None) -> dict[int, LoadResult]:
    """The tutorial's app in `mode` under gunicorn, measured at every level."""
    env = {"DB": database_url or f"sqlite:///{workdir / 'seed_app.db'}", "MODE": mode, "MAIL_PORT": str(mail_port)}
    init = Proc(f"seed-init-{mode}", python(str(ANCHORS / "seed_app.py"), "init"), env=env, log_dir=workdir,
                cwd=workdir).start()
    if init.wait(120) != 0:
        raise BenchError(f"seed_app.py init failed:\n{init.tail()}")
    port = free_port()
    argv = script("gunicorn", "-w", str(config.web_workers), "-k", "gthread", "--threads", str(config.web_threads),
                  "-b", f"127.0.0.1:{port}", "--pythonpath", str(ANCHORS), "--access-logfile", "-",
                  "seed_app:app")
    server = Proc(f"seed-gunicorn-{mode}", argv, env=env, log_dir=workdir, cwd=workdir).start()
    try:
        wait_for(lambda: port_open("127.0.0.1", port) or not server.running, timeout=30, what="seed_app")
        if not server.running:
            raise BenchError(f"gunicorn seed_app exited:\n{server.tail()}")
        return measure_levels(config, f"http://127.0.0.1:{port}", seed_requests())
    finally:
        server.stop()


def run_ours(config: Config, workdir: Path, sink_port: int, database_url: str | None = None) -> dict[int, LoadResult]:
    """`social serve` with the relay and the notifier running, measured at every level."""
    from bench.sinks import SinkAddress

    database_url = database_url or f"sqlite:///{workdir / 'social.db'}"
    services.upgrade_database(database_url, workdir)
    followers, targets = seed_clients(database_url, requests_needed(config), 50)
    requests = (Request("PUT", f"/api/users/me/following/{targets[n % len(targets)].nickname}",
                        {"Authorization": f"Bearer {f.token}"}) for n, f in enumerate(followers))
    with rabbit_vhost("latency") as amqp_url, ExitStack() as stack:
        sink = SinkAddress("127.0.0.1", sink_port, "slow")
        notifier, _ = services.notifier(amqp_url, sink, workdir, connections=8)
        stack.callback(notifier.stop)
        relay, _ = services.relay(database_url, amqp_url, workdir)
        stack.callback(relay.stop)
        web, base = services.web(database_url, amqp_url, workdir, workers=config.web_workers,
                                 threads=config.web_threads)
        stack.callback(web.stop)
        return measure_levels(config, base, requests)


def summarize(levels: dict[int, LoadResult]) -> dict[str, Any]:
    out = {}
    for c, result in levels.items():
        ms = result.latencies_ms
        out[str(c)] = {
            "requests": len(result.outcomes), "errors": len(result.errors),
            "error_samples": sorted({o.error or str(o.status) for o in result.errors})[:3],
            "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90), "p99_ms": percentile(ms, 99),
            "per_second": len(result.outcomes) / result.seconds if result.seconds else 0.0,
        }
    return out


def one_run(config: Config) -> tuple[dict[str, Any], dict[str, dict[int, list[float]]]]:
    """Every contestant once; returns the summary and the raw latencies."""
    summary: dict[str, Any] = {}
    raw: dict[str, dict[int, list[float]]] = {}
    for contestant in CONTESTANTS:
        with scratch(f"latency-{contestant}") as workdir, slow_sink(config.smtp_delay_ms, workdir) as sink:
            if contestant == "ours":
                levels = run_ours(config, workdir, sink.port)
            else:
                levels = run_seed_app(config, contestant, workdir, sink.port)
        summary[contestant] = summarize(levels)
        raw[contestant] = {c: r.latencies_ms for c, r in levels.items()}
    for contestant in ON_POSTGRES if config.postgres else ():
        with (scratch(f"latency-{contestant}-pg") as workdir, slow_sink(config.smtp_delay_ms, workdir) as sink,
              postgres_database() as database_url):
            if contestant == "ours":
                levels = run_ours(config, workdir, sink.port, database_url)
            else:
                levels = run_seed_app(config, contestant, workdir, sink.port, database_url)
        summary[contestant + PG] = summarize(levels)
        raw[contestant + PG] = {c: r.latencies_ms for c, r in levels.items()}
    return summary, raw


def measure(config: Config) -> Section:
    started = time.monotonic()
    section = Section(
        "latency", "Follow latency under concurrent clients",
        {"server": f"gunicorn gthread, {config.web_workers} workers x {config.web_threads} threads, every contestant",
         "concurrency": list(config.concurrency), "requests_per_level": config.latency_requests,
         "max_seconds_per_level": config.latency_seconds, "warmup_requests": config.latency_warmup,
         "smtp_delay_ms": config.smtp_delay_ms,
         "database": "SQLite (each contestant its own file)"
                     + ("; then the bare follow and ours on PostgreSQL (each its own database)" if config.postgres
                        else ""),
         "ours": "social serve + social relay + notifier run (MAIL_MAX_CONNECTIONS=8) into the 200 ms sink"},
    )
    pooled: dict[str, dict[int, list[float]]] = {}
    for _ in range(config.runs):
        summary, raw = one_run(config)
        section.runs.append(summary)
        for contestant, levels in raw.items():
            for c, values in levels.items():
                pooled.setdefault(contestant, {}).setdefault(c, []).extend(values)
    section.figures = figures(section.runs, config.concurrency)
    section.series = {"latency_ms_percentiles": {k: {str(c): quantiles(vs) for c, vs in levels.items()}
                                                 for k, levels in pooled.items()}}
    section.notes.append("Each request follows a distinct pair; every client keeps one HTTP/1.1 connection alive; "
                         "anchors run with MODE=none (bare follow), thread and sync (Flask-Mail to the 200 ms sink).")
    section.seconds = time.monotonic() - started
    return section


def figures(runs: list[dict[str, Any]], levels: tuple[int, ...]) -> list[Figure]:
    def pick(contestant: str, c: int, key: str) -> list[float]:
        return [float(run[contestant][str(c)][key]) for run in runs]

    out = []
    for c in levels:
        n = f"{c} client{'s' if c > 1 else ''}"
        out.append(Figure.of("latency", f"follow p50, {n} (vs bare follow)", "ms", pick("ours", c, "p50_ms"),
                             pick("none", c, "p50_ms"), "tutorial MODE=none p50",
                             Target("ratio_max", 1.5, "≤ 1.5x bare")))
        out.append(Figure.of("latency", f"follow p99, {n} (vs tutorial sync p50)", "ms", pick("ours", c, "p99_ms"),
                             pick("sync", c, "p50_ms"), "tutorial MODE=sync p50",
                             Target("ratio_max", 0.1, "under 0.1x sync p50")))
        out.append(Figure.of("latency", f"follow p50, {n} (vs mail in a thread)", "ms", pick("ours", c, "p50_ms"),
                             pick("thread", c, "p50_ms"), "tutorial MODE=thread p50"))
        out.append(Figure.of("latency", f"follow errors, {n}", "count", pick("ours", c, "errors"),
                             pick("sync", c, "errors"), "tutorial sync errors", Target("below", 1, "0")))
    if all("ours" + PG in run for run in runs):
        for c in levels:
            n = f"{c} client{'s' if c > 1 else ''}, PostgreSQL"
            out.append(Figure.of("latency", f"follow p50, {n} (vs bare follow there)", "ms",
                                 pick("ours" + PG, c, "p50_ms"), pick("none" + PG, c, "p50_ms"),
                                 "tutorial MODE=none p50 on PostgreSQL"))
            out.append(Figure.of("latency", f"follow p99, {n} (vs tutorial sync p50)", "ms",
                                 pick("ours" + PG, c, "p99_ms"), pick("sync", c, "p50_ms"),
                                 "tutorial MODE=sync p50, SQLite"))
            out.append(Figure.of("latency", f"follow errors, {n}", "count", pick("ours" + PG, c, "errors"),
                                 pick("none" + PG, c, "errors"), "tutorial bare follow errors there",
                                 Target("below", 1, "0")))
    return out
