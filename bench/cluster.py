"""10. On a RabbitMQ cluster: the slow-SMTP drain (3) and the end-to-end latency (4) on three nodes
against one node, both clusters of the bench's own (the same RabbitMQ, the same settings, started
alike in the same run, beside the machine's node), and the time from a node's death to the first
mail of a follow made after it.

The node killed (SIGKILL) leads the work queue, which is also the node the notifier declared it
from, so the notifier's own connection dies with it: the follow after the death waits for a new
leader to be elected, for the notifier (and maybe the relay) to reconnect to another node, and for
the web, the relay and the notifier to carry it through. The nodes are started by
`tests/support/cluster.py`, as the cluster test starts them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import services
from bench.amqp import declare_notifier_topology, preload
from bench.config import Config
from bench.drains import SENT
from bench.e2e import MESSAGE_ID_KIND, database
from bench.events import encoded_events
from bench.figures import Figure, Section, Target
from bench.httpload import KeepAliveClient, Request, open_loop
from bench.infra import BenchError, wait_for
from bench.sampling import Sampler, metric_reader
from bench.seeding import outbox_pairs, seed_clients
from bench.sinks import SinkAddress, TimestampingSink, slow_sink
from bench.stats import drain_rate, percentile
from bench.workdir import scratch
from tests.support.cluster import ClusterError, RabbitCluster

SIZES = (1, 3)
QUEUE = "notifier.user-followed"
#: What the cluster test holds a follow made after a node's death to.
DEATH_LIMIT_S = 10.0


@contextmanager
def rabbit_cluster(workdir: Path, size: int) -> Iterator[RabbitCluster]:
    """`size` nodes of the bench's own; every one of them stopped afterwards."""
    try:
        cluster = RabbitCluster(workdir, size=size).__enter__()
    except ClusterError as exc:
        raise BenchError(f"a {size}-node RabbitMQ cluster did not start: {exc}") from None
    try:
        yield cluster
    finally:
        cluster.stop()


def slow_drain(cluster: RabbitCluster, sink: SinkAddress, workdir: Path, *, events: int, connections: int,
               label: str) -> float:
    """Preload `events` (through the first node), drain them with one notifier given every node."""
    first = cluster.nodes[0].url
    topology = declare_notifier_topology(first)
    preload(first, topology.queue, encoded_events(events))
    proc, metrics = services.notifier(cluster.amqp_url, sink, workdir, connections=connections,
                                      name=f"{label}-notifier", wait=False)
    try:
        sent = Sampler(metric_reader(metrics, SENT)).start()
        try:
            wait_for(lambda: (sent.latest() or 0) >= events or not proc.running, timeout=60 + events / 20,
                     what=f"{events} mails", interval=0.1)
        finally:
            samples = sent.stop()
        if not proc.running:
            raise BenchError(f"{proc.name} exited during the drain:\n{proc.tail()}")
    finally:
        proc.stop()
    return drain_rate(samples, events)


def end_to_end(config: Config, cluster: RabbitCluster, workdir: Path, kind: str, *,
               kill_leader: bool) -> dict[str, Any]:
    """Follows through the API at the e2e rate, timed from when each was sent to its mail; then, if
    `kill_leader`, the work queue's leader dies and one more follow is timed from the death to its mail."""
    follows = int(config.e2e_rate * config.cluster_e2e_seconds)
    workdir.mkdir(parents=True, exist_ok=True)
    with database(kind, workdir) as database_url, TimestampingSink() as sink, ExitStack() as stack:
        services.upgrade_database(database_url, workdir)
        followers, targets = seed_clients(database_url, follows + 1, 51)
        (probe, *followers), (probe_target, *targets) = followers, targets
        for start in (lambda: services.notifier(cluster.amqp_url, sink.address, workdir, connections=8),
                      lambda: services.relay(database_url, cluster.amqp_url, workdir)):
            proc, _ = start()
            stack.callback(proc.stop)
        web, base = services.web(database_url, cluster.amqp_url, workdir, workers=config.web_workers,
                                 threads=config.web_threads)
        stack.callback(web.stop)
        requests = (Request("PUT", f"/api/users/me/following/{targets[n % len(targets)].nickname}",
                            {"Authorization": f"Bearer {f.token}"}, (f.nickname, targets[n % len(targets)].email))
                    for n, f in enumerate(followers))
        load = open_loop(base, requests, rate=config.e2e_rate, seconds=config.cluster_e2e_seconds)
        # From when the follow was sent: on a busy machine an answer can reach the client after the mail
        # reached the sink, and a latency from the answer would be negative.
        sent = {o.request.tag: o.finished_at - o.seconds for o in load.outcomes if o.ok}
        wait_for(lambda: len(sink.accepted) >= len(sent), timeout=60, what=f"{len(sent)} mails")
        pairs = outbox_pairs(database_url)
        latencies = []
        for mail in sink.accepted:
            sent_at = sent.get(pairs.get(mail.message_id.split(MESSAGE_ID_KIND, 1)[0]))
            if sent_at is not None:
                latencies.append((mail.at - sent_at) * 1000)
        run: dict[str, Any] = {"follows": len(load.outcomes), "errors": len(load.errors), "matched": len(latencies),
                               "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99)}
        if kill_leader:
            run |= _death_to_mail(cluster, base, sink, probe, probe_target)
    return run


def _death_to_mail(cluster: RabbitCluster, base: str, sink: TimestampingSink, follower: Any,
                   target: Any) -> dict[str, Any]:
    leader = cluster.queue_leader(QUEUE)
    died_at = time.time()
    cluster.kill(leader)
    client = KeepAliveClient(base)
    try:
        outcome = client.send(Request("PUT", f"/api/users/me/following/{target.nickname}",
                                      {"Authorization": f"Bearer {follower.token}"}))
    finally:
        client.close()
    if not outcome.ok:
        raise BenchError(f"the follow after the node's death failed: {outcome.status} {outcome.error}")
    address = target.email.lower()
    mail = wait_for(lambda: next((m for m in sink.accepted if address in (r.lower() for r in m.recipients)), None),
                    timeout=60, what="the mail of the follow made after the node's death")
    return {"killed": leader.name, "death_to_mail_s": mail.at - died_at,
            "follow_to_mail_s": mail.at - outcome.finished_at}


def measure(config: Config) -> Section:
    started = time.monotonic()
    kind = "postgresql" if config.postgres else "sqlite"
    section = Section(
        "cluster", "Three RabbitMQ nodes vs one: slow drain, end to end, a node's death",
        {"nodes": list(SIZES), "slow_events": config.cluster_slow_events,
         "mail_max_connections": config.slow_connections,
         "sink": f"bench/anchors/slow_smtp_sink.py --delay-ms {config.smtp_delay_ms}",
         "e2e_rate_per_s": config.e2e_rate, "e2e_seconds": config.cluster_e2e_seconds, "e2e_database": kind,
         "killed": "the node leading the work queue (the notifier's own node), SIGKILL",
         "clusters": "tests/support/cluster.py: loopback ports, RabbitMQ's defaults (quorum queues on 3 nodes)"},
    )
    for run in range(config.runs):
        result: dict[str, Any] = {}
        with scratch("cluster") as workdir:
            for size in SIZES:
                with rabbit_cluster(workdir / f"rabbitmq-{size}-{run}", size) as cluster:
                    with slow_sink(config.smtp_delay_ms, workdir) as sink:
                        rate = slow_drain(cluster, sink, workdir, events=config.cluster_slow_events,
                                          connections=config.slow_connections, label=f"cluster{size}")
                    e2e = end_to_end(config, cluster, workdir / f"e2e-{size}", kind, kill_leader=size > 1)
                result[str(size)] = {"slow_drain_per_s": rate, **e2e}
        section.runs.append(result)
    one, three = ([r[str(n)] for r in section.runs] for n in SIZES)
    section.figures = [
        Figure.of("cluster", f"slow-SMTP drain on 3 nodes (vs 1 node), MAIL_MAX_CONNECTIONS={config.slow_connections}",
                  "mails/s", [r["slow_drain_per_s"] for r in three], [r["slow_drain_per_s"] for r in one],
                  "the same drain on 1 node"),
        Figure.of("cluster", f"follow sent -> mail p50 on 3 nodes (vs 1 node), {kind}", "ms",
                  [r["p50_ms"] for r in three], [r["p50_ms"] for r in one], "on 1 node"),
        Figure.of("cluster", f"follow sent -> mail p99 on 3 nodes (vs 1 node), {kind}", "ms",
                  [r["p99_ms"] for r in three], [r["p99_ms"] for r in one], "on 1 node"),
        Figure.of("cluster", "follows unmatched to a mail, 1 and 3 nodes", "count",
                  [a["follows"] - a["matched"] + b["follows"] - b["matched"] for a, b in zip(one, three, strict=True)],
                  None, "—", Target("below", 1, "0")),
        Figure.of("cluster", "a node's death -> the mail of a follow made after it", "s",
                  [r["death_to_mail_s"] for r in three], DEATH_LIMIT_S, "limit (the cluster test's)",
                  Target("below", DEATH_LIMIT_S, "< 10 s")),
    ]
    drain, p50, p99 = (f.ratio for f in section.figures[:3])
    section.notes.append(
        f"What quorum replication on three nodes costs, against one node in the same run: the slow-SMTP drain "
        f"runs at {drain:.0%} of the one-node rate, and a follow's mail takes {p50:.2f}x as long at the median, "
        f"{p99:.2f}x at p99. The node killed leads the work queue and carries the notifier's connection; a follow "
        f"made just after its death was mailed {section.figures[4].ours:.1f} s after the death (a new leader "
        "elected, the notifier and perhaps the relay reconnected to another node).")
    section.seconds = time.monotonic() - started
    return section
