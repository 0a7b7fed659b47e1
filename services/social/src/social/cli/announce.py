"""`social announce`: mail an announcement to every confirmed user who has announcements on, and
watch it go; `social announce status ID` shows how far it went, `social announce cancel ID` stops
what has not gone.

Only the announcement's id goes to standard output (`id=$(social announce ... --detach)`); what a
person reads (the progress, the summary, errors) goes to standard error.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime
from typing import NoReturn

import click
from flask.cli import AppGroup, with_appcontext
from microblog_plumbing.databases import database_error
from sqlalchemy.exc import SQLAlchemyError

from social.announcements.errors import AnnouncementError, DraftRefused, NoRecipients
from social.announcements.progress import Progress, progress_of
from social.announcements.watching import watch

#: What `--help` says about a language variant's files.
VARIANT_HELP = (
    "A language variant, LOCALE=FILE (e.g. zh-CN=news.zh.txt): readers with that locale get it instead. "
    "FILE starts with a line 'Subject: ...', then a blank line, then the text. Give the option again "
    "with a file ending in .html or .htm (zh-CN=news.zh.html) for that language's HTML. Repeatable."
)
EPILOG = (
    "Limits: attachments 10 MiB in all (at most 20 files); the subjects, texts and HTML of all "
    "languages 40 KiB together. Exit status 2: nothing was written (a file, a limit, no recipients, "
    "a database not upgraded)."
)


@click.group(cls=AppGroup, invoke_without_command=True, epilog=EPILOG,
             subcommand_metavar="[status ID | cancel ID]")
@click.option("--subject", metavar="TEXT", help="The subject, one line (readers without a variant get it).")
@click.option("--text", "text_file", metavar="FILE", help="The plain text, UTF-8.")
@click.option("--html", "html_file", metavar="FILE", help="The same as HTML, UTF-8 (optional).")
@click.option("--attach", multiple=True, metavar="FILE", help="A file every recipient gets attached. Repeatable.")
@click.option("--locale-variant", "locale_variants", multiple=True, metavar="LOCALE=FILE", help=VARIANT_HELP)
@click.option("--detach", is_flag=True, help="Print the id and return at once, without watching.")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=1.0, hidden=True)
@with_appcontext
def announce(subject: str | None, text_file: str | None, html_file: str | None, attach: tuple[str, ...],
             locale_variants: tuple[str, ...], detach: bool, poll_interval: float) -> None:
    """Mail an announcement to every user with a confirmed address and announcements on: prints
    its id, then its progress until every recipient is mailed (or skipped), or it is cancelled.
    Ctrl-C stops the watching only: the announcement goes on."""
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is not None:
        if subject or text_file or html_file or attach or locale_variants or detach:
            raise click.UsageError(f"--subject, --text and the like make an announcement; "
                                   f"`{ctx.invoked_subcommand}` takes none of them")
        return
    if not subject or not text_file:
        raise click.UsageError("give --subject and --text FILE (or `status ID`, `cancel ID`)")
    _require_schema()

    from social.announcements.drafts import read_draft
    from social.announcements.sending import announce as send
    from social.dbtypes import utcnow
    from social.mail.links import current_links

    try:
        draft = read_draft(subject=subject, text_file=text_file, html_file=html_file, attach=attach,
                           locale_variants=locale_variants)
        announced = send(draft, links=current_links(), now=utcnow(), created_by=_operator())
    except (DraftRefused, NoRecipients) as exc:
        _fail(str(exc) + ("; nothing was written" if isinstance(exc, NoRecipients) else ""), status=2)
    except SQLAlchemyError as exc:
        _fail(f"the database failed ({database_error(exc)}); nothing was written", status=1)
    a = announced.announcement
    click.echo(a.id)
    attachments = f", {len(a.attachments)} attachment(s) of {_size(draft.attachments_bytes)}" if a.attachments else ""
    languages = f", variants: {', '.join(sorted(draft.variants))}" if draft.variants else ""
    click.echo(f"announcement {a.id}: {a.recipients:,} recipient(s) in {announced.batches:,} batch(es)"
               f"{attachments}{languages}", err=True)
    if announced.left_out:
        click.echo(f"left out {announced.left_out:,} user(s) whose address no mail can go to "
                   f"(their ids are in the log)", err=True)
    if detach:
        click.echo(f"watch it with: social announce status {a.id} --watch", err=True)
        return
    _watch(a.id, poll_interval)


@announce.command("status", short_help="How far announcement ID went.")
@click.argument("announcement_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
@click.option("--watch", "keep_watching", is_flag=True, help="Then show the progress until it is over.")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=1.0, hidden=True)
def status(announcement_id: str, as_json: bool, keep_watching: bool, poll_interval: float) -> None:
    """How far announcement ID went: recipients, sent, skipped and failed by reason, remaining."""
    _require_schema()
    progress = _progress(announcement_id)
    if as_json:
        click.echo(json.dumps(progress.as_json(), ensure_ascii=False))
    else:
        click.echo("\n".join(status_lines(progress)))
    if keep_watching:
        _watch(announcement_id, poll_interval)


@announce.command("cancel", short_help="Stop what announcement ID has not sent yet.")
@click.argument("announcement_id", metavar="ID")
def cancel(announcement_id: str) -> None:
    """Call announcement ID off: whoever has not been mailed yet will not be."""
    from social.announcements.sending import cancel as call_off
    from social.dbtypes import utcnow

    _require_schema()
    try:
        call_off(announcement_id, now=utcnow())
    except AnnouncementError as exc:
        _fail(str(exc), status=1)
    except SQLAlchemyError as exc:
        _fail(f"the database failed ({database_error(exc)}); nothing was cancelled", status=1)
    progress = _progress(announcement_id)
    click.echo(f"cancelled announcement {announcement_id}: {progress.sent:,} of {progress.recipients:,} "
               f"recipient(s) had been mailed (as far as the notifier has reported); the rest will not be")


def status_lines(progress: Progress) -> list[str]:
    """What `social announce status` prints, one fact a line."""
    a = progress.announcement
    variants = "".join(f"\n{'':14}{locale}: {subject}" for locale, subject in sorted(a.variant_subjects.items()))
    lines = [
        f"{'announcement':14}{a.id}",
        f"{'subject':14}{a.subject}{variants}",
        f"{'created':14}{_time(a.created_at)}" + (f" by {a.created_by}" if a.created_by else ""),
    ]
    lines += [f"{'attachment':14}{x['filename']} ({x['content_type']}, {_size(x['size'])})" for x in a.attachments]
    lines += [
        f"{'recipients':14}{progress.recipients:,}",
        f"{'sent':14}{progress.sent:,}",
        f"{'skipped':14}{sum(progress.skipped.values()):,}{_reasons(progress.skipped)}",
        f"{'failed':14}{sum(progress.failed.values()):,}{_reasons(progress.failed)}",
        f"{'remaining':14}{progress.remaining:,}",
    ]
    if a.cancelled_at is not None:
        lines.append(f"{'cancelled':14}{_time(a.cancelled_at)}")
    return lines


def _watch(announcement_id: str, interval: float) -> None:
    from social.extensions import db

    def read() -> Progress:
        db.session.rollback()  # end the read transaction: SQLite would keep showing its snapshot
        return progress_of(announcement_id)

    err = sys.stderr
    try:
        progress = watch(read, out=err, interactive=err.isatty(), interval=interval)
    except KeyboardInterrupt:
        click.echo(f"\nstopped watching; the announcement goes on. Watch it again with: "
                   f"social announce status {announcement_id} --watch", err=True)
        sys.exit(130)
    if progress.cancelled_at is not None:
        click.echo(f"cancelled at {_time(progress.cancelled_at)}: {progress.sent:,} sent; the rest will not be",
                   err=True)
    else:
        click.echo(f"done: {progress.sent:,} sent, {sum(progress.skipped.values()):,} skipped"
                   f"{_reasons(progress.skipped)}, {sum(progress.failed.values()):,} failed"
                   f"{_reasons(progress.failed)}", err=True)


def _progress(announcement_id: str) -> Progress:
    try:
        return progress_of(announcement_id)
    except AnnouncementError as exc:
        _fail(str(exc), status=1)


def _require_schema() -> None:
    from social.extensions import db
    from social.outbox.schema import OutboxMissing, check_outbox

    try:
        check_outbox(db.engine, "users", "mail_history", "announcements")
    except OutboxMissing as exc:
        _fail(str(exc), status=2)


def _fail(message: str, *, status: int) -> NoReturn:
    click.echo(f"social announce: {message}", err=True)
    sys.exit(status)


def _operator() -> str | None:
    try:
        return getpass.getuser()[:64] or None
    except (OSError, KeyError):
        return None


def _reasons(counts: dict[str, int]) -> str:
    return f" ({', '.join(f'{reason} {count:,}' for reason, count in counts.items())})" if counts else ""


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
