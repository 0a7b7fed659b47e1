"""`notifier replay`: mail past events again from the event log, folding what was mailed."""

from __future__ import annotations

import sys
from datetime import datetime

import click
import pika.exceptions
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from notifier.cli_dlq import _moment_option
from notifier.signals import on_stop_signals


@click.command("replay")
@click.option("--since", callback=_moment_option, help="Replay events from this time (ISO time, or e.g. 3h).")
@click.option("--until", callback=_moment_option, help="Stop at events after this time (default: now).")
@click.option("--type", "event_type", default="user.followed", show_default=True, help="Only events of this type.")
@click.option("--dry-run", is_flag=True, help="Count what would be mailed and folded; send nothing.")
@click.option("--resend", is_flag=True, help="Mail again even what the ledger says was mailed.")
@click.option("--resume", "resume_run", metavar="RUN", help="Continue an interrupted replay run.")
def replay(since: datetime | None, until: datetime | None, event_type: str, dry_run: bool, resend: bool,
           resume_run: str | None) -> None:
    """Feed past events from the broker's event log through the notifier again."""
    from notifier.bootstrap import build_ledger, build_pipeline
    from notifier.cli import load_settings
    from notifier.consumer import broker_error, connection_parameters
    from notifier.errors import LedgerUnavailable
    from notifier.logs import configure_logging
    from notifier.replay import Checkpoints, ReplayOptions, StreamReplay
    from notifier.retry import RetryPolicy
    from notifier.routing import FailureRouter
    from notifier.topology import Topology
    from notifier.transport import SmtpConfig, SmtpTransport

    settings = load_settings()
    configure_logging(settings.log_format, "warning")
    try:
        ledger = build_ledger(settings)
        runs = Checkpoints(ledger)
    except (LedgerUnavailable, SQLAlchemyError) as exc:
        click.echo(f"notifier replay: the ledger database is not answering: {exc}", err=True)
        sys.exit(1)
    start_offset: int | None = None
    if resume_run:
        try:
            options, start_offset, finished = runs.load(resume_run)
        except KeyError:
            raise click.UsageError(f"no replay run {resume_run!r} in the ledger database") from None
        if finished:
            click.echo(f"replay {resume_run} already finished; nothing to do")
            return
        run_id = resume_run
    else:
        if since is None:
            raise click.UsageError("give --since TIME (or --resume RUN)")
        options = ReplayOptions(since=since, until=until, event_type=event_type, dry_run=dry_run, resend=resend)
        run_id = runs.start(options)
    topology = Topology.from_settings(settings)
    pipeline = build_pipeline(settings, ledger)
    pipeline.writer.start()
    smtp = SmtpConfig.from_settings(settings)
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("starting")
        streamer = StreamReplay(
            parameters=connection_parameters(settings.amqp_url, settings.amqp_heartbeat, "notifier-replay"),
            topology=topology,
            pipeline=pipeline,
            router=FailureRouter(topology, RetryPolicy(topology, settings.notifier_max_attempts)),
            transport_factory=lambda: SmtpTransport(smtp),
            concurrency=settings.mail_max_connections,
            on_progress=lambda s: progress.update(task, description=s.line()),
        )

        on_stop_signals(lambda _name: streamer.stop())
        click.echo(f"replay {run_id}: {topology.stream} since {options.since.isoformat()}"
                   + (f" until {options.until.isoformat()}" if options.until else "")
                   + (" (dry run)" if options.dry_run else "") + (" (resend)" if options.resend else ""), err=True)
        try:
            summary, resume_at = streamer.run(
                options, start_offset=start_offset,
                checkpoint=None if options.dry_run else
                lambda offset, s: runs.save(run_id, offset, s, finished=False))
        except pika.exceptions.AMQPError as exc:
            click.echo(f"notifier replay: RabbitMQ: {broker_error(exc)}; "
                       f"resume with `notifier replay --resume {run_id}`", err=True)
            sys.exit(1)
        finally:
            pipeline.writer.stop()
    if resume_at is not None:
        if not options.dry_run:
            runs.save(run_id, resume_at, summary)
        click.echo(f"interrupted: {summary.line()}; resume with `notifier replay --resume {run_id}`")
        sys.exit(130)
    if not options.dry_run:
        runs.save(run_id, None, summary, finished=True)
    click.echo(f"replay {run_id} done: {summary.line()}")
