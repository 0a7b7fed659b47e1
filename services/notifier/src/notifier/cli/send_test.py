"""`notifier send-test`: one mail through the configured SMTP server, the seed's test-send script."""

from __future__ import annotations

from pathlib import Path

import click

from notifier.cli.common import fail, load_settings


@click.command("send-test")
@click.option("--to", "to", required=True, help="Address to send the test mail to.")
@click.option("--attach", "attach", multiple=True, metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
              help="Attach FILE (repeat for more; up to 10 MB in all).")
def send_test(to: str, attach: tuple[Path, ...]) -> None:
    """Send one test mail through the configured SMTP server and print its answer."""
    import mimetypes
    from datetime import UTC, datetime

    from microblog_contracts import MAX_ATTACHMENTS_BYTES
    from microblog_plumbing.logs import configure_logging

    from notifier.errors import NotifierError, SmtpAuthRefused, SmtpTlsError, SmtpUnavailable
    from notifier.mime import Sender, attachment_part, build_plain
    from notifier.transport import SmtpConfig, SmtpTransport

    hints = {
        SmtpAuthRefused: "check MAIL_USERNAME and MAIL_PASSWORD",
        SmtpTlsError: "check MAIL_USE_TLS / MAIL_USE_SSL against what the server on MAIL_PORT speaks",
    }
    sizes = {path: path.stat().st_size for path in attach}
    if sum(sizes.values()) > MAX_ATTACHMENTS_BYTES:
        fail("send-test", f"the attachments are {sum(sizes.values()):,} bytes in all; at most "
                          f"{MAX_ATTACHMENTS_BYTES:,} bytes (10 MiB)")
    parts = [attachment_part(path.name, mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                             path.read_bytes()) for path in attach]
    settings = load_settings(sends_mail=True)
    configure_logging(settings.log_format, "warning")
    sender = Sender.parse(settings.sender)
    config = SmtpConfig.from_settings(settings)
    where = f"{config.host}:{config.port}"
    now = datetime.now(UTC)
    transport = SmtpTransport(config)
    try:
        message = build_plain(
            sender=sender, recipients=[to], subject="[microblog] test mail",
            text=f"This is a test mail from the Microblog notifier, sent {now:%Y-%m-%d %H:%M:%S} UTC\n"
                 f"through {where}.\n",
            message_id=f"<test.{now.timestamp():.6f}@{sender.address.rsplit('@', 1)[1]}>", date=now,
            attachments=parts,
        )
        reply = transport.send(sender.address, [to], message)
    except NotifierError as exc:
        hint = next((h for cls, h in hints.items() if isinstance(exc, cls)), "")
        if isinstance(exc, SmtpUnavailable) and "timed out" in str(exc):
            hint = "is MAIL_PORT right, and does the server want MAIL_USE_SSL?"
        fail("send-test", f"{where}: {exc}" + (f" ({hint})" if hint else ""))
    finally:
        transport.close()
    files = f" with {len(parts)} attachment{'s' if len(parts) != 1 else ''}" if parts else ""
    click.echo(f"sent to {to}{files} via {where}: {reply}")
