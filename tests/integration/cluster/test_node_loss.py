"""A three-node RabbitMQ cluster of the test's own losing a node, twice, while 1,000 follows flow:
the relay and two notifier replicas are pointed at all three nodes (a comma-separated AMQP_URL),
the ledger is on PostgreSQL. First the node leading the work queue is SIGKILLed (a notifier declared
the queues from it, so it is that notifier's node too); once it is back, the node the relay publishes
through. No mail may be lost, a repeat must carry the same Message-ID (and be no more than the
prefetch), and a follow made just after each kill must be mailed within 10 s."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.amqp import assert_nothing_came_back, wait_until_drained
from tests.support.cli import run_cli
from tests.support.cluster import ClusterError, Node, RabbitCluster
from tests.support.follows import follow_by_id, seed_users
from tests.support.notifier import http_status
from tests.support.processes import Process
from tests.support.services import free_port
from tests.support.smtp import ReceivedMail, SmtpServer
from tests.support.social_app import build_app
from tests.support.tally import event_ids, tally
from tests.support.wait import wait_for

#: Three RabbitMQ nodes and a thousand follows: part of `make test`, left out of the quick loop.
pytestmark = pytest.mark.slow

QUEUE = "notifier.user-followed"
FOLLOWS = 1000
#: Follows a second: the whole run lasts long enough for two kills and a restart in the middle.
RATE = 20.0
#: What the notifier's prefetch is with the settings below (max(200, 8 x MAIL_MAX_CONNECTIONS)).
PREFETCH = 200
MAILED_WITHIN = 10.0


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RabbitCluster]:
    """Three nodes on loopback ports; the test fails, saying why, if they cannot start."""
    try:
        cluster = RabbitCluster(tmp_path / "rabbitmq").__enter__()
    except ClusterError as exc:
        pytest.fail(f"the three-node RabbitMQ cluster did not start: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


class Deployment:
    """`social relay` and two `notifier run` replicas, every one given all three nodes."""

    def __init__(self, *, cluster: RabbitCluster, database_url: str, ledger_url: str, smtp: SmtpServer,
                 workdir: Path) -> None:
        self.social_env = {"DATABASE_URL": database_url, "SECRET_KEY": "cluster-secret", "LOG_FORMAT": "json",
                           "FOLLOW_NOTICE_DEFAULT": "immediately", "AMQP_URL": cluster.amqp_url}
        self.relay_port = free_port()
        self.relay = Process("relay", ["social", "relay"], {**self.social_env,
                                                             "RELAY_HTTP_BIND": f"127.0.0.1:{self.relay_port}"},
                             workdir)
        self.notifier_ports = [free_port(), free_port()]
        self.notifiers = [
            Process(f"notifier-{n}", ["notifier", "run"], {
                "AMQP_URL": cluster.amqp_url, "MAIL_SERVER": smtp.host, "MAIL_PORT": str(smtp.port),
                "ADMINS": "admin@microblog.test", "NOTIFIER_DATABASE_URL": ledger_url,
                "NOTIFIER_HTTP_BIND": f"127.0.0.1:{port}", "NOTIFIER_RETRY_DELAYS": "300ms,1s",
                # as tests/support/system.py: one mail per follow, at once, no daily cap
                "NOTIFIER_DAILY_CAP": "0", "FOLLOW_NOTICE_DEFAULT": "immediately", "NOTIFIER_FOLLOW_GRACE": "0",
                "LOG_FORMAT": "json",
            }, workdir)
            for n, port in enumerate(self.notifier_ports)
        ]
        self.processes = [self.relay, *self.notifiers]

    def start(self) -> Deployment:
        upgraded = run_cli(["social", "db", "upgrade"], self.social_env)
        assert upgraded.code == 0, upgraded.err
        for process in self.processes:
            process.start()
        for port in (self.relay_port, *self.notifier_ports):
            wait_for(lambda p=port: http_status(f"http://127.0.0.1:{p}/readyz") == 200, timeout=60,
                     what=f"the process serving probes on :{port} to be ready")
        return self

    def stop(self) -> dict[str, int | None]:
        return {p.name: p.stop() for p in self.processes}

    def output(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes)


def outbox_event_ids(app: object) -> list[str]:
    from social.extensions import db
    from social.outbox.models import OutboxEvent

    with app.app_context():  # type: ignore[attr-defined]
        return list(db.session.scalars(db.select(OutboxEvent.event_id)))


def publishing_node(cluster: RabbitCluster, relay: Process) -> Node:
    """The node the relay's publisher is connected to now, from its log."""
    connected = [json.loads(line) for line in relay.output().splitlines()
                 if line.startswith("{") and '"broker_connected"' in line]
    assert connected, "the relay never logged its connection"
    port = int(connected[-1]["broker"].rsplit(":", 1)[1])
    return next(node for node in cluster.nodes if node.amqp_port == port)


def mails_to(smtp: SmtpServer, address: str) -> list[ReceivedMail]:
    return [m for m in list(smtp.received) if address in m.rcpt_tos]


class Follows(threading.Thread):
    """`FOLLOWS` followers follow one user, `RATE` a second, as the web app would record them."""

    def __init__(self, app: object, followers: list[int], followed: int) -> None:
        super().__init__(name="follows", daemon=True)
        self.app, self.followers, self.followed = app, followers, followed
        self.made = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        for n, follower in enumerate(self.followers):
            if self.stopping.wait(max(0.0, started + n / RATE - time.monotonic())):
                return
            follow_by_id(self.app, follower, self.followed)  # type: ignore[arg-type]
            self.made += 1


def test_losing_the_work_queue_leader_twice_loses_no_mail_and_mails_a_new_follow_within_10_s(
    cluster: RabbitCluster, smtp_server: SmtpServer, postgres_url: str, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'social.db'}"
    deployment = Deployment(cluster=cluster, database_url=database_url, ledger_url=postgres_url, smtp=smtp_server,
                            workdir=tmp_path)
    started = time.monotonic()
    timings: dict[str, float] = {}
    killed: list[Node] = []
    try:
        deployment.start()
        app = build_app(database_url, migrate=False)  # the schema is `social db upgrade`'s
        ids = seed_users(app, FOLLOWS + 1)
        probe_followers, probe_targets = seed_users(app, 2, prefix="pf"), seed_users(app, 2, prefix="pt")
        # Every queue the services declared (work, delay, dead-letter, inbox) and the event-log stream
        # has a replica on each node: RabbitMQ's defaults, as the services declare them.
        replicas = cluster.replicas()
        assert {QUEUE, f"{QUEUE}.dead", "social.events.log", "social.mail-activity"} <= replicas.keys()
        assert all(len(nodes) == 3 for nodes in replicas.values()), replicas
        follows = Follows(app, ids[1:], ids[0])
        follows.start()

        def kill(k: int, node: Node) -> None:
            leader = cluster.queue_leader(QUEUE)
            cluster.kill(node)
            killed.append(node)
            # A follow right after the kill, to a recipient of its own: mailed within 10 s?
            made = time.monotonic()
            follow_by_id(app, probe_followers[k], probe_targets[k])
            wait_for(lambda: mails_to(smtp_server, f"pt{k}@example.com"), timeout=MAILED_WITHIN,
                     what=f"the follow made after killing {node.name} to be mailed")
            timings[f"kill {k + 1}: follow -> mail (s)"] = round(time.monotonic() - made, 2)
            if node is leader:
                assert cluster.queue_leader(QUEUE) is not node

        # 1. The node leading the work queue (and the delay queues and the stream, which were all
        #    declared from it by the first notifier, and so most likely its consumer's node too).
        wait_for(lambda: len(smtp_server.received) >= 150, timeout=120, what="150 mails")
        kill(0, cluster.queue_leader(QUEUE))
        wait_for(lambda: len(smtp_server.received) >= 400, timeout=120, what="400 mails")
        restarted = time.monotonic()
        cluster.restart(killed[0])
        timings["node restart (s)"] = round(time.monotonic() - restarted, 1)
        # 2. Another node: the one the relay publishes through, so that the relay fails over too
        #    (the queues' leader, when the relay is on the node just restarted).
        wait_for(lambda: len(smtp_server.received) >= 550, timeout=120, what="550 mails")
        relay_node = publishing_node(cluster, deployment.relay)
        kill(1, relay_node if relay_node is not killed[0] else cluster.queue_leader(QUEUE))

        follows.join(FOLLOWS / RATE + 60)
        assert follows.made == FOLLOWS
        wait_for(lambda: len(event_ids(smtp_server.received)) >= FOLLOWS + 2, timeout=120,
                 what="every follow mailed")
        wait_until_drained(cluster.any_running().url, QUEUE)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{deployment.output()}") from None
    finally:
        codes = deployment.stop()
    assert_nothing_came_back(cluster.any_running().url, QUEUE)
    result = tally(f"3-node cluster, 2 nodes SIGKILLed in turn during {FOLLOWS} follows",
                   outbox_event_ids(app), smtp_server.received)
    print(f"\n{result}; {timings}; {time.monotonic() - started:.0f} s with the cluster up")
    assert result.expected == FOLLOWS + 2
    assert result.lost == 0, result
    assert result.unexpected == 0, result
    assert result.duplicated <= PREFETCH, result
    message_ids: dict[str, set[str]] = defaultdict(set)
    for mail in smtp_server.received:
        for event_id in event_ids([mail]):
            message_ids[event_id].add(str(mail.message["Message-ID"]))
    assert all(len(ids) == 1 for ids in message_ids.values()), "a repeated mail had another Message-ID"
    assert codes == {"relay": 0, "notifier-0": 0, "notifier-1": 0}, deployment.output()
