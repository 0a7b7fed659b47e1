"""`notifier skipped list`: the mails deliberately not sent, and why."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import click

from notifier.cli.common import fail, load_settings, moment_option

PROGRAM = "notifier skipped"


@click.group()
def skipped() -> None:
    """Mails the notifier deliberately did not send (unconfirmed, unsubscribed, suppressed, ...)."""


@skipped.command("list")
@click.option("--reason", help="Only this reason (unconfirmed, unsubscribed, suppressed, cooldown, daily_cap, "
                               "expired, ...).")
@click.option("--since", callback=moment_option, help="Skipped at or after (ISO time, or e.g. 2h).")
@click.option("--until", callback=moment_option, help="Skipped at or before.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Rows to print.")
def list_skipped(reason: str | None, since: datetime | None, until: datetime | None, limit: int) -> None:
    """Count skipped mails by reason and list the newest."""
    from notifier.bootstrap import build_ledger
    from notifier.errors import LedgerUnavailable

    settings = load_settings()
    try:
        ledger = build_ledger(settings)
        found = ledger.skipped(reason=reason, since=since, until=until, limit=100_000)
    except LedgerUnavailable as exc:
        fail(PROGRAM, f"the ledger database is not answering: {exc}")
    ledger.dispose()
    filtered = any((reason, since, until))
    click.echo(f"{len(found)} skipped mail(s)" + (" matching the filters" if filtered else ""))
    if not found:
        return
    click.echo("by reason:")
    for why, count in Counter(s.reason for s in found).most_common():
        click.echo(f"  {count:7d}  {why}")
    click.echo("")
    click.echo(f"{'SKIPPED AT (UTC)':<20} {'EVENT ID':<38} {'KIND':<20} {'REASON':<13} {'USER':>8}  DETAIL")
    for s in found[:limit]:
        click.echo(f"{s.skipped_at:%Y-%m-%d %H:%M:%S}  {s.event_id[:38]:<38} {s.kind[:20]:<20} {s.reason[:13]:<13} "
                   f"{s.user_id or '-':>8}  {(s.detail or '')[:80]}")
    if len(found) > limit:
        click.echo(f"... and {len(found) - limit} more (--limit)")
