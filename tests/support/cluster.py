"""A RabbitMQ cluster of a test's own: three nodes on loopback ports, beside (never touching) the
machine's own node.

Each node has its own name, AMQP and distribution ports, data and log directories, config file
and (empty) plugin list in a temporary directory; the nodes share an Erlang cookie kept there too,
found through `HOME`, so the CLI tools run with the same `HOME` reach them and nothing else. Node 1
starts the cluster, the others `join_cluster` it. Each node runs in a process group of its own: a
SIGKILL of that group is a node dying (the machine's node and every other process are left alone),
and `stop()` ends every node this cluster started.

The installed `rabbitmq-server`/`rabbitmqctl` are used, not Debian's wrappers in /usr/sbin, which
switch to the `rabbitmq` user and its home, and so to the machine node's cookie and directories.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

#: The CLI tools take their own distribution ports from this range (25672 + 10000 + 0..10): a node
#: listening there would make them fail.
CLI_DIST_PORTS = range(35672, 35683)
#: What the machine's own node listens on.
MACHINE_PORTS = {4369, 5672, 15672, 25672}
STARTUP_TIMEOUT = 90.0


class ClusterError(Exception):
    """The cluster could not be started or asked something; says why."""


def rabbitmq_scripts() -> Path:
    """The directory of the real `rabbitmq-server` and `rabbitmqctl` scripts."""
    explicit = os.environ.get("TEST_RABBITMQ_SCRIPTS")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(Path("/usr/lib/rabbitmq/bin"))  # Debian and Ubuntu; /usr/sbin holds wrappers
    found = shutil.which("rabbitmq-server")
    if found:
        candidates.append(Path(found).resolve().parent)
    for directory in candidates:
        if (directory / "rabbitmq-server").exists() and (directory / "rabbitmqctl").exists():
            return directory
    raise ClusterError("rabbitmq-server and rabbitmqctl are not installed (the RabbitMQ package, as for the "
                       "machine's own broker); set TEST_RABBITMQ_SCRIPTS to their directory if they are elsewhere")


def free_port(taken: set[int]) -> int:
    """A loopback port nobody listens on, outside the CLI tools' range and the ports in `taken`."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in CLI_DIST_PORTS and port not in MACHINE_PORTS and port not in taken:
            taken.add(port)
            return port
    raise ClusterError("no free loopback port")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Node:
    """One node of the cluster and the process group that runs it."""

    number: int
    name: str
    amqp_port: int
    dist_port: int
    base: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def log_path(self) -> Path:
        return self.base / "console.log"

    def log_tail(self, chars: int = 3000) -> str:
        parts = [self.log_path, *sorted((self.base / "log").glob("*.log"))]
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in parts if p.exists())


class RabbitCluster:
    """`size` RabbitMQ nodes clustered on loopback, in `workdir`. Use as a context manager."""

    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.scripts = rabbitmq_scripts()
        self.tag = secrets.token_hex(3)
        taken: set[int] = set()
        self.nodes = [
            Node(n, f"mbtest{self.tag}n{n}@localhost", free_port(taken), free_port(taken), workdir / f"node{n}")
            for n in range(1, size + 1)
        ]
        self._cookie = workdir / ".erlang.cookie"
        self._env_file = workdir / "rabbitmq-env.conf"
        self._plugins = workdir / "enabled_plugins"

    # -- life ---------------------------------------------------------------------------------------

    def __enter__(self) -> RabbitCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> RabbitCluster:
        """Start every node, cluster them behind node 1, and wait until all of them run."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._cookie.write_text(secrets.token_hex(20))
        self._cookie.chmod(0o400)
        self._env_file.write_text("# deliberately empty: this cluster's settings are in the environment\n")
        self._plugins.write_text("[].\n")
        for node in self.nodes:
            self._launch(node)
        for node in self.nodes:
            self._await_listener(node)
        first, *others = self.nodes
        # One joiner at a time: two nodes joining the same node at once race in Mnesia's schema merge,
        # and one of them fails to start (`{mnesia_app, start}` badmatch; seen in CI).
        for node in others:
            self._join(node, first)
        self.await_running(len(self.nodes))
        for node in self.nodes:
            self._await_listener(node)
        return self

    def _join(self, node: Node, first: Node, attempts: int = 3) -> None:
        """Join `node` to `first`'s cluster; after a failed try, reset the node and try again."""
        for attempt in range(1, attempts + 1):
            try:
                self.ctl(node, "stop_app")
                if attempt > 1:
                    self.ctl(node, "reset")
                self.ctl(node, "join_cluster", first.name)
                self.ctl(node, "start_app")
                return
            except ClusterError as exc:
                if attempt == attempts:
                    raise ClusterError(f"joining the cluster failed {attempts} times; last: {exc}") from exc
                time.sleep(1.0)

    def kill(self, node: Node) -> None:
        """SIGKILL the node (its whole process group): a node dying, with no goodbye to anyone."""
        if node.proc is None or node.proc.poll() is not None:
            return
        os.killpg(node.proc.pid, signal.SIGKILL)
        node.proc.wait(30)

    def restart(self, node: Node) -> None:
        """Start a killed node again, on its own data; it rejoins the cluster it was in."""
        self._launch(node)
        self._await_listener(node)
        self.await_running(sum(1 for n in self.nodes if n.running))

    def stop(self) -> None:
        """End every node this cluster started (a SIGKILL each: their data is thrown away)."""
        for node in self.nodes:
            self.kill(node)

    # -- asking the cluster ---------------------------------------------------------------------------

    @property
    def amqp_url(self) -> str:
        """Every node, as a comma-separated AMQP_URL."""
        return ",".join(node.url for node in self.nodes)

    def node_named(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def any_running(self, but: Node | None = None) -> Node:
        for node in self.nodes:
            if node.running and node is not but:
                return node
        raise ClusterError("no node of the cluster is running")

    def ctl(self, node: Node, *args: str, timeout: float = 60.0) -> str:
        """`rabbitmqctl -n NODE ARGS`; its output, or ClusterError with what it said."""
        return self._cli("rabbitmqctl", node, *args, timeout=timeout)

    def queue_leader(self, queue: str, vhost: str = "/") -> Node:
        """The node that leads `queue` (a quorum queue or a stream) now."""
        asked = self.any_running()
        rows = json.loads(self.ctl(asked, "list_queues", "-p", vhost, "name", "leader", "--formatter", "json"))
        for row in rows:
            if row["name"] == queue:
                return self.node_named(row["leader"])
        raise ClusterError(f"no queue {queue!r} in vhost {vhost!r} on {asked.name}")

    def replicas(self, vhost: str = "/") -> dict[str, list[str]]:
        """Each queue of `vhost` (quorum queues and streams) with the nodes that hold a replica."""
        asked = self.any_running()
        rows = json.loads(self.ctl(asked, "list_queues", "-p", vhost, "name", "members", "--formatter", "json"))
        return {row["name"]: sorted(row["members"] or []) for row in rows}

    def running_nodes(self) -> list[str]:
        status = json.loads(self.ctl(self.any_running(), "cluster_status", "--formatter", "json"))
        return sorted(status.get("running_nodes", []))

    def await_running(self, count: int, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                seen = self.running_nodes()
            except ClusterError:
                seen = []
            if len(seen) >= count:
                return
            time.sleep(0.5)
        raise ClusterError(f"the cluster runs {seen}, not {count} nodes, after {timeout:.0f} s")

    # -- the processes ----------------------------------------------------------------------------------

    def _common_env(self) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.workdir), "RABBITMQ_CONF_ENV_FILE": str(self._env_file),
                "ERL_EPMD_ADDRESS": "127.0.0.1", "LC_ALL": "C.UTF-8"}

    def _launch(self, node: Node) -> None:
        (node.base / "log").mkdir(parents=True, exist_ok=True)
        config = node.base / "rabbitmq.conf"
        config.write_text(
            f"listeners.tcp.1 = 127.0.0.1:{node.amqp_port}\n"
            # a node that finds itself alone with one other of three stops, rather than diverge
            "cluster_partition_handling = pause_minority\n"
        )
        env = {
            **self._common_env(),
            "RABBITMQ_NODENAME": node.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(node.amqp_port),
            "RABBITMQ_DIST_PORT": str(node.dist_port),
            "RABBITMQ_MNESIA_BASE": str(node.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(node.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(config),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self._plugins),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        with node.log_path.open("ab") as log:
            node.proc = subprocess.Popen([str(self.scripts / "rabbitmq-server")], env=env, cwd=node.base,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def _await_listener(self, node: Node, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until the node accepts AMQP connections (its listener opens last as it boots)."""
        deadline = time.monotonic() + timeout
        while not port_open(node.amqp_port):
            if not node.running:
                raise ClusterError(f"node {node.name} exited while starting:\n{node.log_tail()}")
            if time.monotonic() > deadline:
                raise ClusterError(f"node {node.name} did not open port {node.amqp_port} in {timeout:.0f} s:\n"
                                   f"{node.log_tail()}")
            time.sleep(0.2)

    def _cli(self, tool: str, node: Node, *args: str, timeout: float) -> str:
        try:
            done = subprocess.run([str(self.scripts / tool), "-q", "-n", node.name, *args], env=self._common_env(),
                                  cwd=self.workdir, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ClusterError(f"{tool} {' '.join(args)} on {node.name} took over {timeout:.0f} s") from None
        if done.returncode != 0:
            raise ClusterError(f"{tool} {' '.join(args)} on {node.name} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[:1500]}")
        return done.stdout
