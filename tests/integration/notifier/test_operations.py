"""The notifier as operators run it: several processes on one queue, probes, metrics, logs."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.amqp import assert_nothing_came_back, publish_many, wait_until_drained
from tests.support.events import user_followed
from tests.support.notifier import http_status, notifier_env, wait_until_ready
from tests.support.processes import Process
from tests.support.proxy import TcpProxy
from tests.support.smtp import SmtpServer
from tests.support.tally import event_ids, tally
from tests.support.wait import wait_for

QUEUE = "notifier.user-followed"


@pytest.mark.slow
def test_two_notifier_processes_share_2000_events_and_mail_each_once(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    batch = [user_followed() for _ in range(2000)]
    envs = [notifier_env(amqp_url, smtp_server, tmp_path) for _ in range(2)]
    notifiers = [Process(f"notifier-{n}", ["notifier", "run"], env, tmp_path).start() for n, env in enumerate(envs)]
    try:
        for env in envs:
            wait_until_ready(env)
        publish_many(amqp_url, [(e.id, e.to_json_bytes()) for e in batch])
        wait_for(lambda: len(event_ids(smtp_server.received)) >= len(batch), timeout=120, what="2000 mails")
        wait_until_drained(amqp_url, QUEUE)
    finally:
        codes = [n.stop() for n in notifiers]
    assert codes == [0, 0]
    assert_nothing_came_back(amqp_url, QUEUE)
    result = tally("two notifiers on one queue (2000 events)", [e.id for e in batch], smtp_server.received)
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    shares = [sum(1 for line in n.output().splitlines() if '"outcome": "sent"' in line) for n in notifiers]
    assert sum(shares) == len(batch)
    assert min(shares) > 0, f"one process did all the work: {shares}"


def metrics(env: dict[str, str]) -> dict[str, float]:
    with urllib.request.urlopen(f"http://{env['NOTIFIER_HTTP_BIND']}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[sample.name + (f"{{{labels}}}" if labels else "")] = sample.value
    return values


def test_readyz_follows_the_broker_connection_and_metrics_count_what_was_sent(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path, broker_proxy: TcpProxy
) -> None:
    env = notifier_env(broker_proxy.url(amqp_url), smtp_server, tmp_path, AMQP_HEARTBEAT="2")
    notifier = Process("notifier", ["notifier", "run"], env, tmp_path).start()
    ready = f"http://{env['NOTIFIER_HTTP_BIND']}/readyz"
    try:
        wait_until_ready(env)
        assert http_status(f"http://{env['NOTIFIER_HTTP_BIND']}/healthz") == 200

        good = [user_followed() for _ in range(25)]
        publish_many(amqp_url, [(e.id, e.to_json_bytes()) for e in good] + [("junk", b"junk")])
        wait_for(lambda: len(smtp_server.received) >= 25, what="25 mails")
        wait_for(lambda: metrics(env).get("notifier_mails_dead_lettered_total{kind=none,reason=unreadable.not_json}")
                 == 1 and metrics(env).get("notifier_mails_sent_total{kind=follower_email}") == 25,
                 what="every outcome to be counted")
        counted = metrics(env)
        assert counted["notifier_mails_sent_total{kind=follower_email}"] == 25
        assert counted["notifier_events_consumed_total"] == 26
        assert counted["notifier_events_processed_total{kind=follower_email,outcome=sent}"] == 25
        assert counted["notifier_events_processed_total{kind=none,outcome=dead}"] == 1
        assert counted["notifier_smtp_send_seconds_count"] == 25
        assert counted["notifier_broker_connected"] == 1

        broker_proxy.refuse()  # the broker goes away, and stays away
        wait_for(lambda: http_status(ready) == 503, timeout=20, what="/readyz to turn unready")
        assert http_status(f"http://{env['NOTIFIER_HTTP_BIND']}/healthz") == 200
        broker_proxy.accept()
        wait_for(lambda: http_status(ready) == 200, timeout=60, what="/readyz to turn ready again")

        late = user_followed()
        publish_many(amqp_url, [(late.id, late.to_json_bytes())])
        wait_for(lambda: len(smtp_server.received) >= 26, what="a mail after the reconnect")
    finally:
        assert notifier.stop() == 0


def test_every_log_line_about_an_event_carries_its_id_and_only_the_recipients_domain(
    amqp_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    event = user_followed(email="someone.private@example.org")
    env = notifier_env(amqp_url, smtp_server, tmp_path, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret-Pa55")
    notifier = Process("notifier", ["notifier", "run"], env, tmp_path).start()
    try:
        wait_until_ready(env)
        publish_many(amqp_url, [(event.id, event.to_json_bytes())])
        wait_for(lambda: "event_settled" in notifier.output(), what="the outcome line")
    finally:
        notifier.stop()
    output = notifier.output()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    settled = next(line for line in lines if line["event"] == "event_settled")
    assert settled["event_id"] == event.id
    assert settled["recipient_domain"] == "example.org"
    assert settled["mail_kind"] == "follower_email"
    assert {"outcome", "duration_ms", "timestamp", "level"} <= settled.keys()
    assert "someone.private" not in output
    assert "s3cret-Pa55" not in output
