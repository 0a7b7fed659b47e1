"""12. An announcement to many: `social announce` to 100,000 confirmed users with a 1 MB attachment,
sent by one notifier to smtp-sink, the whole system as an operator runs it (PostgreSQL, the relay,
the notifier's bulk senders). Measured:

- mails a second while the announcement goes, against raw smtplib pushing a pre-built message of
  the same size over as many sessions as the notifier's bulk senders use (the SMTP limit);
- bytes through the broker per recipient (every connection of the run's vhost, in and out): the
  attachment crosses it once, so this is a small fraction of its size;
- peak resident memory of the notifier, the relay and the `social announce` command;
- password-reset latency, from the API's answer to the notifier's record of the SMTP server's
  acceptance (its log line, written a group commit after the reply), with the system idle and in the
  middle of the announcement. One reset at a time, each for a user of its own.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import services
from bench.config import Config
from bench.figures import Figure, Section, Target
from bench.infra import RABBIT_HOST, BenchError, postgres_database, rabbit_vhost, wait_for
from bench.procs import Proc, script
from bench.sampling import Sampler, metric_reader, quietly, rss_reader
from bench.seeding import UNUSABLE_HASH
from bench.sinks import fast_sink
from bench.smtp_limit import smtplib_rate
from bench.stats import percentile
from bench.workdir import scratch

RESETS = 20
SENT = "notifier_mails_sent_total"


@contextmanager
def database(config: Config, workdir: Path) -> Iterator[str]:
    if config.postgres:
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{workdir / 'social.db'}"


def seed_users(database_url: str, recipients: int, resetters: int) -> None:
    """`recipients` users with confirmed addresses and announcements on (the default), and
    `resetters` more who will ask for a password reset; inserted in bulk."""
    import sqlalchemy as sa
    from social.accounts import nickname_key
    from social.models import User

    confirmed = datetime.now(UTC)
    engine = sa.create_engine(database_url)
    rows = [{"nickname": f"a{n}", "email": f"a{n}@example.com"} for n in range(recipients)]
    rows += [{"nickname": f"r{n}", "email": f"r{n}@example.com"} for n in range(resetters)]
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(sa.insert(User.__table__), [
                {**row, "nickname_key": nickname_key(row["nickname"]), "password_hash": UNUSABLE_HASH,
                 "email_confirmed_at": confirmed}
                for row in rows[start:start + 5000]])
    engine.dispose()


def peak_rss(pid: int) -> float:
    """VmHWM of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def broker_bytes(amqp_url: str) -> float:
    """Bytes into and out of the broker on every open connection of the vhost of `amqp_url`."""
    vhost = urllib.parse.unquote(amqp_url.rsplit("/", 1)[1])
    path = f"/api/vhosts/{urllib.parse.quote(vhost, safe='')}/connections"
    request = urllib.request.Request(f"http://{RABBIT_HOST}:15672{path}")
    request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")  # guest:guest
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local broker's API
        connections = json.loads(response.read())
    return float(sum(c.get("recv_oct", 0) + c.get("send_oct", 0) for c in connections))


class ResetClock:
    """Asks for password resets one at a time through the API and times each to its mail, read
    from the notifier's log (the `event_settled` line of a sent `password_reset`)."""

    def __init__(self, base: str, notifier_log: Path) -> None:
        self.base = base
        self.log = notifier_log
        self.asked = 0

    def _sent_at(self) -> list[float]:
        times = []
        for line in self.log.read_text(errors="replace").splitlines():
            if '"password_reset"' not in line or '"event_settled"' not in line:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("outcome") == "sent" and entry.get("mail_kind") == "password_reset":
                times.append(datetime.fromisoformat(entry["timestamp"]).timestamp())
        return times

    def one(self) -> float:
        """Milliseconds from the API's 202 to the mail's acceptance."""
        n = self.asked
        self.asked += 1
        body = json.dumps({"email": f"r{n}@example.com"}).encode()
        request = urllib.request.Request(f"{self.base}/api/password-resets", data=body,  # noqa: S310 - ours
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own web
            if response.status != 202:
                raise BenchError(f"a password reset was answered {response.status}")
        answered = time.time()
        sent = wait_for(lambda: (t := self._sent_at()) and len(t) > n and t[n], timeout=60,
                        what=f"password reset {n + 1}'s mail", interval=0.01)
        return (float(sent) - answered) * 1000


def one_run(config: Config) -> dict[str, Any]:
    users = config.announce_users
    with scratch("announce") as workdir, database(config, workdir) as database_url, \
            rabbit_vhost("announce") as amqp_url, fast_sink(config.fast_sink, workdir) as sink, ExitStack() as stack:
        services.upgrade_database(database_url, workdir)
        seed_users(database_url, users, 2 * RESETS)
        notifier, metrics = services.notifier(amqp_url, sink, workdir, connections=4,
                                              NOTIFIER_BULK_CONCURRENCY=str(config.announce_sessions))
        stack.callback(notifier.stop)
        relay, _ = services.relay(database_url, amqp_url, workdir)
        stack.callback(relay.stop)
        limits = {"PASSWORD_RESET_RATE_LIMIT": "10000 per hour", "PASSWORD_RESET_ADDRESS_RATE_LIMIT": "100 per hour"}
        web, base = services.web(database_url, amqp_url, workdir, workers=1, threads=4, **limits)
        stack.callback(web.stop)
        resets = ResetClock(base, notifier.log_path)
        idle = [resets.one() for _ in range(RESETS)]

        attachment = workdir / "annual-report.pdf"
        attachment.write_bytes(os.urandom(config.announce_attachment_bytes))
        text = workdir / "news.txt"
        text.write_text("Microblog turns two.\n\nThe annual report is attached. Thank you for being here.\n")
        announce = Proc("social-announce", script("social", "announce", "--subject", "Microblog turns two", "--text",
                                                  str(text), "--attach", str(attachment), "--detach"),
                        env=services.social_env(database_url, amqp_url), log_dir=workdir, cwd=workdir)
        sent = metric_reader(metrics, SENT)
        before = quietly(sent) or 0.0
        # Counted from before the command starts: a small announcement can be mostly sent by the
        # time the command has finished writing it.
        counts = Sampler(lambda: quietly(sent), interval=0.05).start()
        started = time.monotonic()
        announce.start()
        announce_rss = Sampler(rss_reader(announce.pid), interval=0.05).start()
        status = announce.wait(600)
        announce_rss.stop()
        written = time.monotonic() - started
        if status != 0:
            counts.stop()
            raise BenchError(f"social announce failed:\n{announce.tail()}")
        audience = users + 2 * RESETS  # the users who ask for resets get the announcement too
        wait_for(lambda: (quietly(sent) or 0) >= before + audience * 0.1, timeout=600,
                 what="a tenth of the announcement")
        busy = []
        for _ in range(RESETS):
            if (quietly(sent) or 0) >= before + audience * 0.8:
                break  # keep the busy resets inside the announcement
            busy.append(resets.one())
            time.sleep(0.25)
        wait_for(lambda: (quietly(sent) or 0) >= before + audience + len(busy), timeout=audience / 20 + 300,
                 what=f"{audience:,} announcement mails", interval=0.5)
        series = counts.stop()
        time.sleep(6)  # the broker refreshes its connections' byte counts every 5 s
        traffic = broker_bytes(amqp_url)
        rss = {"notifier": peak_rss(notifier.pid), "relay": peak_rss(relay.pid),
               "announce": max((v for _, v in announce_rss.samples), default=float("nan"))}
        message_bytes = _one_message_size(workdir, config)
        raw = smtplib_rate(sink, config.announce_raw_messages, connections=config.announce_sessions,
                           message_size=message_bytes)
    rate = _steady_rate(series, before, audience)
    return {"recipients": audience, "attachment_bytes": config.announce_attachment_bytes, "mail_bytes": message_bytes,
            "write_seconds": written, "mails_per_s": rate, "raw_smtplib_per_s": raw,
            "broker_bytes_per_recipient": traffic / audience, "rss_notifier_mib": rss["notifier"],
            "rss_relay_mib": rss["relay"], "rss_announce_mib": rss["announce"],
            "reset_idle_p50_ms": percentile(idle, 50), "reset_idle_p99_ms": percentile(idle, 99),
            "reset_busy_p50_ms": percentile(busy, 50), "reset_busy_p99_ms": percentile(busy, 99),
            "resets_busy": len(busy)}


def _one_message_size(workdir: Path, config: Config) -> int:
    """The size of one announcement mail as the notifier builds it (headers, text, HTML, the
    attachment in base64), for the raw SMTP push of the same size."""
    from notifier.mime import Sender, attachment_part, build_mixed

    part = attachment_part("annual-report.pdf", "application/pdf", os.urandom(config.announce_attachment_bytes))
    sender = Sender.parse("Microblog <news@example.com>")
    return len(build_mixed(sender=sender, recipient="a0@example.com", subject="Microblog turns two",
                           text="Dear a0,\n\n" + "x" * 600, html="<p>" + "x" * 3000 + "</p>",
                           message_id="<m@example.com>", date=datetime.now(UTC), attachments=[part]))


def _steady_rate(series: list[tuple[float, float]], before: float, users: int) -> float:
    """Mails a second between a tenth and nine tenths of the announcement (the ramp and the tail
    left out), from the samples nearest those marks."""
    first = next(((t, v) for t, v in series if v >= before + users * 0.1), None)
    last = next(((t, v) for t, v in series if v >= before + users * 0.9), None)
    if first is None or last is None or last[0] <= first[0]:
        raise BenchError(f"the announcement's progress was not seen ({len(series)} samples): too small to time")
    return (last[1] - first[1]) / (last[0] - first[0])


def measure(config: Config) -> Section:
    section = Section("announce", "An announcement to many", {
        "recipients": config.announce_users, "attachment_bytes": config.announce_attachment_bytes,
        "bulk_sessions": config.announce_sessions, "database": "PostgreSQL" if config.postgres else "SQLite",
        "sink": config.fast_sink, "runs": 1,
        "reset_latency": "API answer -> the notifier's log line of the mail's acceptance, one reset at a time"})
    section.runs = [one_run(config)]
    r = section.runs
    section.figures = [
        Figure.of("announce", f"announcement: mails/s to {config.announce_users:,} users, "
                  f"{config.announce_attachment_bytes / 1e6:g} MB attachment", "mails/s",
                  [x["mails_per_s"] for x in r], [x["raw_smtplib_per_s"] for x in r],
                  "raw smtplib, same size and sessions", Target("ratio_min", 0.5, "≥ 0.5x")),
        Figure.of("announce", "announcement: broker bytes per recipient vs the attachment", "bytes",
                  [x["broker_bytes_per_recipient"] for x in r], [x["attachment_bytes"] for x in r],
                  "attachment size", Target("ratio_max", 0.01, "≤ 0.01x")),
        Figure.of("announce", "announcement: notifier peak RSS", "MiB", [x["rss_notifier_mib"] for x in r], 150.0,
                  "limit", Target("below", 150.0, "< 150 MiB")),
        Figure.of("announce", "announcement: social relay peak RSS", "MiB", [x["rss_relay_mib"] for x in r], 150.0,
                  "limit", Target("below", 150.0, "< 150 MiB")),
        Figure.of("announce", "announcement: `social announce` peak RSS", "MiB", [x["rss_announce_mib"] for x in r],
                  150.0, "limit", Target("below", 150.0, "< 150 MiB")),
        Figure.of("announce", "password reset p50 during the announcement vs idle", "ms",
                  [x["reset_busy_p50_ms"] for x in r], [x["reset_idle_p50_ms"] for x in r], "idle"),
        Figure.of("announce", "password reset p99 during the announcement", "ms",
                  [x["reset_busy_p99_ms"] for x in r], 2000.0, "limit", Target("below", 2000.0, "< 2 s")),
        Figure.of("announce", "password reset p99, system idle", "ms", [x["reset_idle_p99_ms"] for x in r], None,
                  "—"),
        Figure.of("announce", "`social announce`: recipients written (seconds)", "s",
                  [x["write_seconds"] for x in r], None, "—"),
    ]
    return section
