"""Sizes of every measurement: the full run, and the smoke run `make test` makes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class Config:
    """What to measure and how much. Every figure is the median of `runs` runs."""

    out: Path
    runs: int = 3
    smoke: bool = False
    fast_sink: str = "smtp-sink"  # or "aiosmtpd": the anchor sink, only when asked for (see README)
    postgres: bool = True

    # 1. follow latency: gunicorn workers and threads, the same for every contestant
    web_workers: int = 2
    web_threads: int = 8
    concurrency: tuple[int, ...] = (1, 8, 32)
    latency_requests: int = 300  # per concurrency level ...
    latency_seconds: float = 10.0  # ... or this long, whichever ends first
    latency_warmup: int = 40
    smtp_delay_ms: int = 200

    # 2. fast drain (smtp-sink)
    drain_events: int = 20_000
    drain_connections: tuple[int, ...] = (1, 4, 8)
    raw_smtp_messages: int = 5_000
    naive_events: int = 3_000

    # 3. slow drain (200 ms sink)
    slow_events: int = 3_000
    slow_connections: int = 32  # the cluster section's drain
    #: Fixed SMTP concurrencies (MAIL_ADAPTIVE_CONNECTIONS=false) the slow drain's default settings
    #: are measured against: the best of them is the anchor.
    slow_sweep: tuple[int, ...] = (8, 16, 32, 64)
    naive_slow_events: int = 60

    # 4. end to end
    e2e_rate: float = 50.0
    e2e_seconds: float = 60.0

    # 5. relay
    relay_events: int = 20_000
    pika_confirm_messages: int = 3_000
    pika_consume_messages: int = 20_000

    # 7. scale
    scale_processes: tuple[int, ...] = (1, 2, 4)
    scale_connections: int = 16
    scale_events_per_process: int = 1_000
    sink_ceiling_messages: int = 2_000

    # 9. storm of follows to one user
    storm_events: int = 10_000
    storm_seconds: float = 60.0
    storm_grace: float = 5.0
    storm_window: float = 30.0

    # 8. profile
    profile_events: int = 20_000
    profile_connections: int = 8

    # 10. a RabbitMQ cluster: three nodes vs one (the slow drain, end to end), a node's death
    cluster_slow_events: int = 3_000
    cluster_e2e_seconds: float = 20.0

    # 11. render cost per mail
    render_mails: int = 2_000

    # 12. an announcement to many (one run: 100,000 mails of 1.4 MB take minutes)
    announce_users: int = 100_000
    announce_attachment_bytes: int = 1_000_000
    announce_sessions: int = 2
    announce_raw_messages: int = 2_000

    sections: tuple[str, ...] = field(default=())

    @classmethod
    def smoke_sized(cls, out: Path, **overrides: object) -> Config:
        """Tiny sizes, one run: proves every measurement works, in about a minute and a half."""
        small = cls(
            out=out, runs=1, smoke=True, concurrency=(1, 4), latency_requests=20, latency_seconds=3,
            latency_warmup=5, drain_events=400, drain_connections=(4,), raw_smtp_messages=300,
            naive_events=60, slow_events=60, slow_sweep=(8, 32), naive_slow_events=6, e2e_seconds=4, relay_events=500,
            pika_confirm_messages=100, pika_consume_messages=500, scale_processes=(1, 2),
            scale_events_per_process=40, sink_ceiling_messages=100, profile_events=400,
            storm_events=300, storm_seconds=5.0, storm_grace=1.0, storm_window=3.0,
            cluster_slow_events=60, cluster_e2e_seconds=2.0, render_mails=100,
            announce_users=300, announce_attachment_bytes=100_000, announce_raw_messages=200,
        )
        return replace(small, **overrides)  # type: ignore[arg-type]
