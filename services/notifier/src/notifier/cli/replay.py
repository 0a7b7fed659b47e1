"""`notifier replay`: mail past events again from the event log, folding what was mailed."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from notifier.cli.common import fail, load_settings, moment_option

PROGRAM = "notifier replay"
#: A replay's SMTP sessions, at most: it does not find its concurrency as `notifier run` does, so it
#: keeps to the few sessions any server takes (MAIL_MAX_CONNECTIONS is a ceiling, 64 by default).
REPLAY_SESSIONS = 8


@click.command("replay")
@click.option("--since", callback=moment_option, help="Replay events from this time (ISO time, or e.g. 3h).")
@click.option("--until", callback=moment_option, help="Stop at events after this time (default: now).")
@click.option("--type", "event_type", default="user.followed", show_default=True, help="Only events of this type.")
@click.option("--dry-run", is_flag=True, help="Count what would be mailed and folded; send nothing.")
@click.option("--resend", is_flag=True, help="Mail again even what the ledger says was mailed.")
@click.option("--resume", "resume_run", metavar="RUN", help="Continue an interrupted replay run.")
def replay(since: datetime | None, until: datetime | None, event_type: str, dry_run: bool, resend: bool,
           resume_run: str | None) -> None:
    """Feed past events from the broker's event log through the notifier again."""
    from microblog_plumbing.logs import configure_logging
    from microblog_plumbing.signals import on_stop_signals
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from notifier.bootstrap import (
        build_admission,
        build_ledger,
        build_pipeline,
        build_policy,
        build_topology,
        smtp_transports,
    )
    from notifier.broker import brokers_for
    from notifier.errors import BrokerUnavailable, LedgerUnavailable
    from notifier.ledger.checkpoints import UnknownRun
    from notifier.replay import ReplayOptions, ReplaySummary, StreamReplay

    settings = load_settings(sends_mail=True)
    configure_logging(settings.log_format, "warning")
    try:
        ledger = build_ledger(settings)
    except LedgerUnavailable as exc:
        fail(PROGRAM, f"the ledger database is not answering: {exc}")
    runs = ledger.replay_runs
    start_offset: int | None = None
    if resume_run:
        try:
            saved = runs.load(resume_run)
        except UnknownRun:
            raise click.UsageError(f"no replay run {resume_run!r} in the ledger database") from None
        if saved.finished:
            click.echo(f"replay {resume_run} already finished; nothing to do")
            return
        options, start_offset, run_id = ReplayOptions.from_document(saved.options), saved.next_offset, resume_run
    else:
        if since is None:
            raise click.UsageError("give --since TIME (or --resume RUN)")
        options = ReplayOptions(since=since, until=until, event_type=event_type, dry_run=dry_run, resend=resend)
        run_id = runs.start(options.to_document())

    def save(offset: int | None, summary: ReplaySummary, *, finished: bool = False) -> None:
        if not options.dry_run:
            runs.save(run_id, offset, summary.__dict__, finished=finished)

    topology = build_topology(settings)
    ledger.start()
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("starting")
        streamer = StreamReplay(
            brokers=brokers_for(settings.amqp_url, settings.amqp_heartbeat, "notifier-replay"),
            topology=topology,
            pipeline=build_pipeline(settings, ledger),
            policy=build_policy(settings, topology),
            admission=build_admission(settings),
            transport_factory=smtp_transports(settings),
            concurrency=min(settings.mail_max_connections, REPLAY_SESSIONS),
            on_progress=lambda s: progress.update(task, description=s.line()),
        )
        on_stop_signals(lambda _name: streamer.stop())
        click.echo(f"replay {run_id}: {topology.stream} since {options.since.isoformat()}"
                   + (f" until {options.until.isoformat()}" if options.until else "")
                   + (" (dry run)" if options.dry_run else "") + (" (resend)" if options.resend else ""), err=True)
        try:
            summary, resume_at = streamer.run(options, start_offset=start_offset, checkpoint=save)
        except BrokerUnavailable as exc:
            fail(PROGRAM, f"RabbitMQ: {exc}; resume with `notifier replay --resume {run_id}`")
        finally:
            ledger.stop()
    if resume_at is not None:
        save(resume_at, summary)
        click.echo(f"interrupted: {summary.line()}; resume with `notifier replay --resume {run_id}`")
        sys.exit(130)
    save(None, summary, finished=True)
    click.echo(f"replay {run_id} done: {summary.line()}")
