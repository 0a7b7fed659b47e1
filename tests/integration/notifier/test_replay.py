"""Replays as an operator runs them: the dead-letter queue after a fix, the event log from a
time, interrupted runs resumed."""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.amqp import message_count, publish_many, wait_until_drained
from tests.support.cli import run_cli
from tests.support.events import user_followed
from tests.support.notifier import notifier_env, notifier_settings, running_notifier
from tests.support.processes import Process
from tests.support.smtp import SmtpServer
from tests.support.tally import event_ids, tally
from tests.support.wait import wait_for

QUEUE = "notifier.user-followed"
DLQ = f"{QUEUE}.dead"


def test_a_dlq_replay_after_a_fix_delivers_every_dead_letter_once_and_a_second_replay_nothing(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # A relay host that defers every message (say, its quota ran out) outlasts the retries: an
    # afternoon of mail is dead-lettered, to be replayed once the operator has it fixed.
    batch = [user_followed(email=f"user{n}@example.org") for n in range(40)]
    smtp_server.handler.responder = lambda env: "452 4.3.1 insufficient system storage"
    env = notifier_env(amqp_url, smtp_server, tmp_path)
    settings = notifier_settings(amqp_url, smtp_server, tmp_path, notifier_retry_delays=["100ms"],
                                 notifier_max_attempts=2)
    with running_notifier(settings):
        publish_many(amqp_url, [(e.id, e.to_json_bytes()) for e in batch])
        wait_for(lambda: message_count(amqp_url, DLQ) == len(batch), timeout=30, what="every event dead-lettered")

        listed = run_cli(["notifier", "dlq", "list"], env)
        assert listed.code == 0, listed.err
        assert f"{len(batch)} dead letter(s) in {DLQ}" in listed.out
        assert re.search(r"\s40\s+smtp_unavailable", listed.out)

        shown = run_cli(["notifier", "dlq", "show", batch[0].id], env)
        assert "452 4.3.1 insufficient system storage" in shown.out
        assert batch[0].id in shown.out

        dry = run_cli(["notifier", "dlq", "replay", "--dry-run"], env)
        assert "would replay 40" in dry.out
        assert message_count(amqp_url, DLQ) == len(batch)

        smtp_server.handler.responder = None  # the fix: the relay host has room again
        first = run_cli(["notifier", "dlq", "replay", "--reason", "452"], env)
        assert first.code == 0, first.err
        assert "replayed 40 dead letter(s)" in first.out
        wait_for(lambda: len(smtp_server.received) >= len(batch), timeout=30, what="the replayed mails")

        second = run_cli(["notifier", "dlq", "replay"], env)
        assert "replayed 0 dead letter(s)" in second.out
        wait_until_drained(amqp_url, QUEUE)
    result = tally("DLQ replay after a fix (40 dead letters)", [e.id for e in batch], smtp_server.received)
    assert result.lost == 0, result
    assert result.duplicated == 0, result


def test_dlq_purge_asks_first_and_deletes_only_what_matches(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    env = notifier_env(amqp_url, smtp_server, tmp_path)
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)):
        publish_many(amqp_url, [("junk-1", b"junk"), ("junk-2", b"junk"), ("other", b"[]")])
        wait_for(lambda: message_count(amqp_url, DLQ) == 3, what="three dead letters")
    declined = run_cli(["notifier", "dlq", "purge", "--reason", "not_json"], env, input_text="n\n")
    assert "Delete 2 dead letter(s)" in declined.out
    assert "nothing purged" in declined.out
    assert message_count(amqp_url, DLQ) == 3
    purged = run_cli(["notifier", "dlq", "purge", "--reason", "not_json", "--yes"], env)
    assert "purged 2 dead letter(s)" in purged.out
    assert message_count(amqp_url, DLQ) == 1


def mail_history(amqp_url: str, smtp_server: SmtpServer, tmp_path: Path, count: int) -> tuple[list[str], datetime]:
    """`count` past follows, spread over the last two hours, all mailed; returns their ids in
    time order and the moment halfway through them."""
    start = datetime.now(UTC) - timedelta(hours=2)
    events = [user_followed(at=start + timedelta(seconds=5 * n)) for n in range(count)]
    with running_notifier(notifier_settings(amqp_url, smtp_server, tmp_path)):
        publish_many(amqp_url, [(e.id, e.to_json_bytes()) for e in events])
        wait_for(lambda: len(event_ids(smtp_server.received)) >= count, timeout=60, what="the history mailed")
    middle = events[count // 2].time
    return [e.id for e in events], middle


@pytest.mark.slow
def test_a_stream_replay_from_the_middle_mails_nothing_again_and_with_a_fresh_ledger_exactly_the_rest(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ids, middle = mail_history(amqp_url, smtp_server, tmp_path, 1000)
    already = len(smtp_server.received)
    env = notifier_env(amqp_url, smtp_server, tmp_path)

    again = run_cli(["notifier", "replay", "--since", middle.isoformat()], env)
    assert again.code == 0, again.err
    assert "mailed 0, folded 500" in again.out
    assert len(smtp_server.received) == already

    fresh = notifier_env(amqp_url, smtp_server, tmp_path, NOTIFIER_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}")
    dry = run_cli(["notifier", "replay", "--since", middle.isoformat(), "--dry-run"], fresh)
    assert "would mail 500" in dry.out
    rebuilt = run_cli(["notifier", "replay", "--since", middle.isoformat()], fresh)
    assert rebuilt.code == 0, rebuilt.err
    assert "mailed 500, folded 0" in rebuilt.out
    replayed = smtp_server.received[already:]
    result = tally("stream replay from the middle, fresh ledger (500 of 1000)", ids[500:], replayed)
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    assert result.unexpected == 0, result


@pytest.mark.slow
def test_an_interrupted_replay_run_again_ends_with_every_event_mailed_once(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    ids, _ = mail_history(amqp_url, smtp_server, tmp_path, 200)
    smtp_server.handler.received.clear()
    smtp_server.handler.delay = 0.05
    env = notifier_env(amqp_url, smtp_server, tmp_path, NOTIFIER_DATABASE_URL=f"sqlite:///{tmp_path / 'lost.db'}",
                       MAIL_MAX_CONNECTIONS="2")
    since = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    first = Process("replay-1", ["notifier", "replay", "--since", since], env, tmp_path).start()
    wait_for(lambda: len(smtp_server.received) >= 40, timeout=60, what="the replay to get going")
    first.signal(signal.SIGINT)
    assert first.proc is not None
    assert first.proc.wait(60) == 130, first.output()
    run = re.search(r"--resume (\S+)`", first.output())
    assert run, first.output()
    interrupted_at = len(smtp_server.received)
    assert interrupted_at < len(ids)
    resumed = run_cli(["notifier", "replay", "--resume", run[1]], env)
    assert resumed.code == 0, resumed.err
    summary = re.search(r"read (\d+), mailed (\d+), folded (\d+)", resumed.out)
    assert summary, resumed.out
    read, mailed, folded = map(int, summary.groups())
    assert mailed == len(ids) - interrupted_at  # exactly the rest
    assert read < len(ids), "the resumed run started over instead of at its checkpoint"
    assert folded <= 10  # only what was in flight when the first run stopped
    result = tally(f"replay interrupted after {interrupted_at} of 200, resumed", ids, smtp_server.received)
    assert result.lost == 0, result
    assert result.duplicated == 0, result
