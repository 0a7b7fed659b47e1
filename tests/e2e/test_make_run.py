"""`make run` as a newcomer meets it: tools/devrun.py (what `make run` runs once .venv exists) as
a subprocess, its output piped as into a file or a CI log."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.notifier import http_status
from tests.support.services import RABBIT_HOST, RABBIT_PORT, free_port, port_open, rabbit_api, rabbit_vhost
from tests.support.system import Browser
from tests.support.wait import wait_for

ROOT = Path(__file__).resolve().parents[2]
#: What a developer's shell may have set that would change what these runs do.
_LEFT_OUT = ("SOCIAL_BASE_URL", "LOG_FORMAT", "NO_COLOR", "DATABASE_URL", "NOTIFIER_DATABASE_URL", "MAIL_SERVER")


def make_run_env(tmp_path: Path, amqp_url: str, **overrides: str) -> dict[str, str]:
    """Free ports, this test's vhost, databases and mail folder: nothing of the checkout's var/."""
    env = {name: value for name, value in os.environ.items() if name not in _LEFT_OUT}
    env |= {
        "AMQP_URL": amqp_url,
        "SOCIAL_BIND": f"127.0.0.1:{free_port()}", "NOTIFIER_HTTP_BIND": f"127.0.0.1:{free_port()}",
        "RELAY_HTTP_BIND": f"127.0.0.1:{free_port()}", "MAIL_PORT": str(free_port()),
        "MAIL_SINK_DIR": str(tmp_path / "mail"), "SECRET_KEY": "make-run-test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'social.db'}",
        "NOTIFIER_DATABASE_URL": f"sqlite:///{tmp_path / 'notifier.db'}",
        "SIGNUP_RATE_LIMIT": "1000 per minute",
    }
    return env | overrides


def make_run(env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run `make run` to its end (the checks that stop it before it starts anything)."""
    return subprocess.run([sys.executable, "tools/devrun.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@contextmanager
def listening(port: int) -> Iterator[None]:
    """Another program on `port`."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", port))
        other.listen()
        yield


def port_of(value: str) -> int:
    return int(value.rpartition(":")[2])


@pytest.mark.parametrize("variable", ["SOCIAL_BIND", "MAIL_PORT", "NOTIFIER_HTTP_BIND", "RELAY_HTTP_BIND"])
def test_a_taken_port_stops_make_run_with_one_line_naming_the_port_and_its_variable(
        variable: str, tmp_path: Path) -> None:
    env = make_run_env(tmp_path, f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/%2F")
    port = port_of(env[variable])
    with listening(port):
        ran = make_run(env)
    assert ran.returncode == 1
    assert ran.stdout == ""  # nothing started
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"make run: port {port} (") and f", {variable})" in line
    assert re.search(rf"`{variable}=(127\.0\.0\.1:)?\d+ make run`", line), line


def test_two_of_our_variables_on_one_port_stop_make_run_naming_both(tmp_path: Path) -> None:
    env = make_run_env(tmp_path, f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/%2F")
    env["MAIL_PORT"] = str(port_of(env["SOCIAL_BIND"]))
    ran = make_run(env)
    assert ran.returncode == 1
    assert ran.stderr.splitlines() == [
        f"make run: SOCIAL_BIND and MAIL_PORT both use port {env['MAIL_PORT']}; give one of them another port"]


def test_a_wrong_broker_password_stops_make_run_with_one_line_and_no_password(amqp_url: str, tmp_path: Path) -> None:
    wrong = amqp_url.replace("guest:guest@", "guest:not-the-password-3f9@")
    ran = make_run(make_run_env(tmp_path, wrong))
    assert ran.returncode == 1
    (line,) = ran.stderr.splitlines()
    assert f"RabbitMQ at {RABBIT_HOST}:{RABBIT_PORT} refused the login of user 'guest'" in line
    assert "wrong user or password" in line and "AMQP_URL=amqp://guest:***@" in line
    assert "not-the-password" not in ran.stdout + ran.stderr


def test_a_missing_vhost_stops_make_run_saying_how_to_create_it(tmp_path: Path) -> None:
    vhost = f"make-run-missing-{uuid.uuid4().hex[:8]}"
    ran = make_run(make_run_env(tmp_path, f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{vhost}"))
    assert ran.returncode == 1
    (line,) = ran.stderr.splitlines()
    assert f"has no vhost '{vhost}'" in line
    assert f"`rabbitmqctl add_vhost {vhost}`" in line and "/%2F for the default vhost" in line


def test_a_vhost_the_user_may_not_use_stops_make_run_saying_how_to_grant_it(tmp_path: Path) -> None:
    with rabbit_vhost() as url:
        vhost = url.rpartition("/")[2]
        rabbit_api("DELETE", f"/permissions/{vhost}/guest")
        ran = make_run(make_run_env(tmp_path, url))
    assert ran.returncode == 1
    (line,) = ran.stderr.splitlines()
    assert f"does not let user 'guest' use vhost '{vhost}'" in line
    assert f"`rabbitmqctl set_permissions -p {vhost} guest '.*' '.*' '.*'`" in line


def test_no_broker_answering_stops_make_run_saying_how_to_start_one(tmp_path: Path) -> None:
    nobody = free_port()
    ran = make_run(make_run_env(tmp_path, f"amqp://guest:guest@127.0.0.1:{nobody}/%2F"))
    assert ran.returncode == 1
    (line,) = ran.stderr.splitlines()
    assert line.startswith(f"make run: no RabbitMQ answers at 127.0.0.1:{nobody} (AMQP_URL); start one with "
                           "`rabbitmq-server -detached`")


class Running:
    """`make run` in the background, its output (stdout and stderr, piped) read line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "tools/devrun.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode(errors="replace"))

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            if self.proc.poll() is not None and not self._reader.is_alive():
                said = [line for line in self.lines if line.startswith("make run:")]
                raise AssertionError(f"make run exited ({self.proc.returncode}): {''.join(said)}\n"
                                     f"{self.output[-3000:]}")
            return next((m for line in list(self.lines) if (m := re.search(pattern, line))), None)
        return wait_for(found, timeout=timeout, interval=0.02, what=f"a line matching {pattern!r}")

    def stop(self) -> int:
        """Ctrl-C, as a terminal would send it; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self._reader.join(10)
        return code


@pytest.mark.slow
def test_make_run_says_ready_once_everything_answers_and_a_newcomer_confirms_from_its_output(
        amqp_url: str, tmp_path: Path) -> None:
    env = make_run_env(tmp_path, amqp_url)
    web = f"http://127.0.0.1:{port_of(env['SOCIAL_BIND'])}"
    run = Running(env)
    try:
        ready = run.wait_for_line(r"^make run: ready at (\S+) \(")
        # Everything answers at the moment "ready" is said, not merely started.
        assert http_status(f"{web}/readyz") == 200
        assert http_status(f"http://{env['NOTIFIER_HTTP_BIND']}/readyz") == 200
        assert http_status(f"http://{env['RELAY_HTTP_BIND']}/readyz") == 200
        assert ready[1] == f"{web}/"  # the URL follows SOCIAL_BIND
        Browser(web).register("newcomer", "newcomer@example.com", "a long enough password")
        link = run.wait_for_line(r"^    mail \|     open it to go on: (\S+/confirm/\S+)")[1]
        assert link.startswith(f"{web}/confirm/")  # links in mail follow SOCIAL_BIND too
        Browser(web).confirm_address(link)
        assert list((tmp_path / "mail").glob("*.eml"))
    finally:
        code = run.stop()
    output = run.output
    assert code == 0, output[-3000:]
    assert "\x1b" not in output  # piped: no colour codes from make run or any process it relays
    assert "Traceback" not in output
    assert "make run: stopping ..." in output
    for value in (env["SOCIAL_BIND"], env["NOTIFIER_HTTP_BIND"], env["RELAY_HTTP_BIND"], env["MAIL_PORT"]):
        assert not port_open("127.0.0.1", port_of(value))  # every process stopped


@pytest.mark.slow
def test_a_process_that_exits_stops_make_run_without_saying_ready(amqp_url: str, tmp_path: Path) -> None:
    run = Running(make_run_env(tmp_path, amqp_url, MAIL_MAX_CONNECTIONS="many"))
    try:
        code = run.proc.wait(60)
    finally:
        run.stop()
    assert code == 1
    assert "notifier | notifier: configuration error: MAIL_MAX_CONNECTIONS" in run.output
    assert "make run: notifier exited (status 2); stopping the rest\n" in run.output
    assert "make run: ready" not in run.output
