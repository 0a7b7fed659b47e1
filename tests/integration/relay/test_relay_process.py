"""`social relay` as an operator runs it: probes, metrics, start-up errors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from social.dbtypes import utcnow
from social.extensions import db
from social.outbox.models import OutboxEvent

from tests.integration.relay.test_relay import SINK, bind_sink
from tests.support.amqp import message_count
from tests.support.cli import run_cli
from tests.support.follows import follow_by_id, seed_users
from tests.support.processes import Process
from tests.support.proxy import TcpProxy
from tests.support.services import free_port
from tests.support.social_app import build_app
from tests.support.wait import wait_for


def relay_metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if not s.labels}


def probe(port: int, path: str) -> tuple[int | None, Any]:
    """The status and JSON body the relay's probe at `path` answers with; (None, None) if nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return int(response.status), json.load(response)
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.load(exc)
    except OSError:
        return None, None


def broker_problem(port: int) -> str | None:
    """Why the relay's /readyz says the broker is not ready, if it says so."""
    _status, body = probe(port, "/readyz")
    problem = (body or {}).get("errors", {}).get("broker")
    return str(problem) if problem is not None else None


def backdate_pending_events(app: Flask, seconds: float) -> None:
    """Make every pending event look `seconds` old."""
    with app.app_context():
        db.session.execute(db.update(OutboxEvent).where(OutboxEvent.published_at.is_(None))
                           .values(occurred_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def test_the_relay_reports_its_backlog_and_readiness_and_drains_when_the_broker_is_back(
    amqp_url: str, tmp_path: Path, broker_proxy: TcpProxy
) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    app = build_app(database_url)
    ids = seed_users(app, 4)
    bind_sink(amqp_url)
    port = free_port()
    broker_proxy.refuse()
    relay = Process("relay", ["social", "relay"], {"DATABASE_URL": database_url, "AMQP_URL": broker_proxy.url(amqp_url),
                                                   "RELAY_HTTP_BIND": f"127.0.0.1:{port}", "LOG_FORMAT": "json"},
                    tmp_path).start()
    try:
        wait_for(lambda: probe(port, "/healthz")[0] == 200, what="the relay's probes")
        wait_for(lambda: (broker_problem(port) or "").startswith("cannot connect: "),
                 what="the relay to say why the broker is not ready")
        status, unready = probe(port, "/readyz")
        assert (status, unready["status"], unready["checks"]) == (503, "unavailable", {"broker": False, "inbox": False})
        assert unready["errors"]["inbox"].startswith("broker: ")
        for follower in ids[1:]:
            follow_by_id(app, follower, ids[0])
        backdate_pending_events(app, 120)
        backlog = relay_metrics(port)
        assert backlog["relay_outbox_backlog"] == 3
        assert 120 <= backlog["relay_outbox_oldest_pending_age_seconds"] < 150
        broker_proxy.accept()
        wait_for(lambda: relay_metrics(port)["relay_outbox_backlog"] == 0, timeout=60, what="the backlog to drain")
        wait_for(lambda: probe(port, "/readyz")[0] == 200, timeout=60, what="the inbox back too")
        drained = relay_metrics(port)
        assert drained["relay_outbox_oldest_pending_age_seconds"] == 0
        assert drained["relay_events_published_total"] == 3
        assert drained["relay_publish_batch_seconds_count"] >= 1
        assert probe(port, "/readyz") == (200, {"status": "ok", "checks": {"broker": True, "inbox": True}})
    finally:
        assert relay.stop() == 0, relay.output()[-2000:]
    assert message_count(amqp_url, SINK) == 3


def test_the_relay_refuses_to_start_without_the_schema_in_one_line(tmp_path: Path) -> None:
    ran = run_cli(["social", "relay"], {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert ran.code == 2
    assert ran.err.strip() == "social relay: the database has no outbox table: run `social db upgrade` first"


def test_a_wrong_setting_stops_social_with_one_line_naming_it() -> None:
    ran = run_cli(["social", "serve"], {"SOCIAL_WORKERS": "many"})
    assert ran.code == 2
    assert ran.err.strip().startswith("social: configuration error: SOCIAL_WORKERS: Input should be a valid integer")
    assert "Traceback" not in ran.err
