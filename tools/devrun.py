"""`make run`: the whole system on this machine, with defaults that need no setting up.

Checks first, starting nothing if one fails (one line each, saying what to change): the ports
(SOCIAL_BIND, MAIL_PORT, NOTIFIER_HTTP_BIND, RELAY_HTTP_BIND) are free, and the broker in AMQP_URL
takes its login and has its vhost. Then brings the SQLite database to the current schema, starts a
local SMTP sink (mail kept in MAIL_SINK_DIR), the web app, the outbox relay and the notifier, and
says "ready" once each of them answers its /readyz. Output of each is prefixed with its name
(coloured on a terminal only); Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from devchecks import broker_problem, listeners, port_problems
from devprocesses import Children, Console
from devready import Readiness, local_url, wait_listening

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

DEFAULTS = {
    "AMQP_URL": "amqp://guest:guest@localhost:5672/%2F",
    "SOCIAL_BIND": "127.0.0.1:5000",
    "NOTIFIER_HTTP_BIND": "127.0.0.1:8081",
    "RELAY_HTTP_BIND": "127.0.0.1:8082",
    "MAIL_SERVER": "127.0.0.1",
    "MAIL_PORT": "8025",
    "MAIL_SINK_DIR": "var/mail",
    "ADMINS": "admin@microblog.local",
    "LOG_FORMAT": "console",
    # For trying things out: a follow's mail goes seconds after it, not a minute, and a burst
    # gathers for half a minute, not a quarter of an hour (set either to change it).
    "NOTIFIER_FOLLOW_GRACE": "5s",
    "NOTIFIER_BATCH_WINDOW": "30s",
}


def settings(environ: dict[str, str]) -> dict[str, str]:
    """Every process's environment: ours under what the caller set. The public URL follows
    SOCIAL_BIND unless SOCIAL_BASE_URL is set, so links in mail lead to the web on its port."""
    env = {**DEFAULTS, **environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("SOCIAL_BASE_URL", local_url(env["SOCIAL_BIND"]))
    return env


def ready_text(env: dict[str, str], seconds: float) -> str:
    base = env["SOCIAL_BASE_URL"].rstrip("/")
    return (f"make run: ready at {base}/ ({seconds:.1f} s)\n"
            f"  Register two users there. Each gets a mail asking to confirm the address (only confirmed\n"
            f"  addresses get notifications): it shows below with its link, and lands in {env['MAIL_SINK_DIR']}/.\n"
            f"  Open the link and press Confirm (or: .venv/bin/social users confirm NICKNAME), then log in\n"
            f"  as one user and follow the other: the mail shows below after NOTIFIER_FOLLOW_GRACE="
            f"{env['NOTIFIER_FOLLOW_GRACE']}\n"
            f"  (60s by default, so that an undone follow mails nobody); more follows within\n"
            f"  NOTIFIER_BATCH_WINDOW={env['NOTIFIER_BATCH_WINDOW']} (15m by default) gather into one mail.\n"
            f"  Ctrl-C stops everything.\n")


def preflight(env: dict[str, str]) -> list[str]:
    """What stops `make run` before it starts anything: bad or taken ports, then the broker."""
    wanted, problems = listeners(env)
    problems += port_problems(wanted)
    if problems:
        return problems
    broker = broker_problem(env["AMQP_URL"])
    return [broker] if broker else []


def prepare(env: dict[str, str]) -> bool:
    """The checks, then the database schema; False (having said why) if `make run` cannot go on."""
    problems = preflight(env)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return False
    upgrade = subprocess.run([str(BIN / "social"), "db", "upgrade"], env=env, capture_output=True, text=True)
    if upgrade.returncode != 0:
        sys.stderr.write(upgrade.stdout + upgrade.stderr)
        print("make run: `social db upgrade` failed (above)", file=sys.stderr)
    return upgrade.returncode == 0


def run(env: dict[str, str]) -> int:
    """Start the processes, relay what they say until Ctrl-C or one of them exits, stop them all."""
    console = Console(colour=sys.stdout.isatty() and "NO_COLOR" not in env)
    children = Children(console, env)
    signal.signal(signal.SIGINT, lambda *_: children.stop_soon())
    signal.signal(signal.SIGTERM, lambda *_: children.stop_soon())
    console.say("make run: starting the mail sink, web, relay and notifier (Ctrl-C stops them all)")
    Path(env["MAIL_SINK_DIR"]).mkdir(parents=True, exist_ok=True)
    children.start("mail", [sys.executable, str(ROOT / "tools" / "mailsink.py"), "--port", env["MAIL_PORT"],
                            "--maildir", env["MAIL_SINK_DIR"]])
    # The notifier looks for its SMTP server as it starts; a sink that did not start ends the run below.
    wait_listening("127.0.0.1", int(env["MAIL_PORT"]), alive=lambda: children.running("mail"))
    if children.running("mail"):
        children.start("web", [str(BIN / "social"), "serve"])
        children.start("relay", [str(BIN / "social"), "relay"])
        children.start("notifier", [str(BIN / "notifier"), "run"])
    readiness = Readiness({"web": local_url(env["SOCIAL_BIND"]), "relay": local_url(env["RELAY_HTTP_BIND"]),
                           "notifier": local_url(env["NOTIFIER_HTTP_BIND"])}).start()
    while children.relay_output():
        for news in readiness.news():
            console.say(ready_text(env, readiness.seconds) if news is None else news)
    readiness.stop()
    return children.stop_all()


def main() -> int:
    env = settings(dict(os.environ))
    os.chdir(ROOT)
    try:
        if not prepare(env):
            return 1
    except KeyboardInterrupt:  # Ctrl-C before anything started: nothing to stop
        return 130
    return run(env)


if __name__ == "__main__":
    raise SystemExit(main())
