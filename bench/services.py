"""Our processes as an operator starts them: `social db upgrade`, `social serve`, `social relay`,
`notifier run`, each with its settings in the environment and its probes on a free port."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from bench.amqp import ADMIN
from bench.infra import BenchError, free_port, wait_for
from bench.procs import Proc, script
from bench.sinks import SinkAddress

SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away key for local runs


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost probes
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_ready(proc: Proc, url: str, timeout: float = 60) -> None:
    """Wait for `url` to answer 200; fail with the process's output if it died or never did."""
    try:
        wait_for(lambda: http_status(url) == 200 or not proc.running, timeout=timeout, what=f"{proc.name} at {url}")
    except BenchError as exc:
        raise BenchError(f"{exc}\n--- {proc.name} output:\n{proc.tail()}") from None
    if not proc.running:
        raise BenchError(f"{proc.name} exited:\n{proc.tail()}")


def upgrade_database(database_url: str, workdir: Path) -> None:
    """`social db upgrade` on `database_url`."""
    done = subprocess.run(script("social", "db", "upgrade"), env=social_env(database_url, "amqp://unused/"),
                          cwd=workdir, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        raise BenchError(f"social db upgrade failed:\n{done.stderr[-3000:]}")


def social_env(database_url: str, amqp_url: str, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "AMQP_URL": amqp_url,
            "SECRET_KEY": SECRET_KEY, "LOG_FORMAT": "json", **extra}


def web(database_url: str, amqp_url: str, workdir: Path, *, workers: int, threads: int,
        **extra: str) -> tuple[Proc, str]:
    """`social serve` on a free port, started and answering; returns it and its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = social_env(database_url, amqp_url, SOCIAL_BIND=f"127.0.0.1:{port}", SOCIAL_BASE_URL=base,
                     SOCIAL_WORKERS=str(workers), SOCIAL_THREADS=str(threads), **extra)
    proc = Proc("social-serve", script("social", "serve"), env=env, log_dir=workdir, cwd=workdir).start()
    wait_ready(proc, f"{base}/readyz")
    return proc, base


def relay(database_url: str, amqp_url: str, workdir: Path, *, name: str = "social-relay") -> tuple[Proc, str]:
    """`social relay`, started and ready; returns it and its /metrics URL."""
    port = free_port()
    env = social_env(database_url, amqp_url, RELAY_HTTP_BIND=f"127.0.0.1:{port}")
    proc = Proc(name, script("social", "relay"), env=env, log_dir=workdir, cwd=workdir).start()
    wait_ready(proc, f"http://127.0.0.1:{port}/readyz")
    return proc, f"http://127.0.0.1:{port}/metrics"


def notifier(amqp_url: str, sink: SinkAddress, workdir: Path, *, connections: int | None, name: str = "notifier",
             ledger: Path | None = None, wait: bool = True, **extra: str) -> tuple[Proc, str]:
    """`notifier run` against `sink`; returns it and its /metrics URL (ready unless `wait` is False).
    `connections=None` leaves MAIL_MAX_CONNECTIONS at its default."""
    port = free_port()
    env = {
        "AMQP_URL": amqp_url, "MAIL_SERVER": sink.host,
        "MAIL_PORT": str(sink.port), "ADMINS": ADMIN,
        **({} if connections is None else {"MAIL_MAX_CONNECTIONS": str(connections)}),
        "NOTIFIER_DATABASE_URL": f"sqlite:///{ledger or workdir / f'{name}-ledger.db'}",
        "NOTIFIER_HTTP_BIND": f"127.0.0.1:{port}", "LOG_FORMAT": "json",
        # One mail per follow, at once, as before the gathering of follow notices (its own bench
        # section measures that): the drain and end-to-end figures stay comparable.
        # No daily cap: the bench's recipients get more follows an hour than a person would.
        "FOLLOW_NOTICE_DEFAULT": "immediately", "NOTIFIER_FOLLOW_GRACE": "0", "NOTIFIER_DAILY_CAP": "0", **extra,
    }
    proc = Proc(name, script("notifier", "run"), env=env, log_dir=workdir, cwd=workdir).start()
    if wait:
        wait_ready(proc, f"http://127.0.0.1:{port}/readyz")
    return proc, f"http://127.0.0.1:{port}/metrics"
