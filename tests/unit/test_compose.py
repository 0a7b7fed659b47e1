"""compose.yaml and the Dockerfiles, held to the Compose schema and to the code they deploy.

No Docker engine runs where these tests do, so they read the files: the schema catches a
malformed compose file, the rest catch a setting that does not exist, a wait on a service
that cannot report health, or an image that copies what it should not.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from notifier.settings import NotifierSettings
from pydantic_settings import BaseSettings
from social.settings import SocialSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
COMPOSE_SCHEMA = ROOT / "tests" / "fixtures" / "compose-spec.json"
SETTINGS: dict[str, type[BaseSettings]] = {"social": SocialSettings, "notifier": NotifierSettings}
DOCKERFILES = {name: ROOT / "services" / name / "Dockerfile" for name in SETTINGS}

#: The .env an operator writes before `docker compose up` (README): compose.yaml ships no secret.
DOTENV = {
    "SECRET_KEY": "dotenv-secret-key", "POSTGRES_PASSWORD": "dotenv-postgres-password",
    "RABBITMQ_DEFAULT_USER": "ops", "RABBITMQ_DEFAULT_PASS": "dotenv-rabbitmq-password",
    "RABBITMQ_ERLANG_COOKIE": "dotenv-erlang-cookie", "RELAY_AMQP_PASSWORD": "dotenv-relay-password",
    "NOTIFIER_AMQP_PASSWORD": "dotenv-notifier-password",
}
_NAME = re.compile(r"\w+")
_PROBE_PORT = re.compile(r"http://127\.0\.0\.1:(\d+)/")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def package_of(service: dict[str, Any]) -> str | None:
    """`social` or `notifier` when the service builds that package's image, else None."""
    build = service.get("build")
    if not isinstance(build, dict):
        return None
    parts = Path(build.get("dockerfile", "Dockerfile")).parts
    if len(parts) == 3 and parts[0] == "services" and parts[2] == "Dockerfile":
        return parts[1]
    return None


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as a mapping, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


class MissingVariable(Exception):
    """A `${VAR:?message}` whose VAR is unset: compose stops before starting anything, saying so."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def resolve(value: str, variables: dict[str, str]) -> str:
    """`value` as compose interpolates it with `variables` set and every other variable unset:
    `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, nested, and `$$`.
    Raises :class:`MissingVariable` for a required variable that is unset."""
    out, i = [], 0
    while i < len(value):
        if value.startswith("$$", i):
            out.append("$")
            i += 2
        elif value.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                if value.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                depth -= value[j] == "}"
                j += 1
            out.append(_substitute(value[i + 2:j - 1], variables))
            i = j
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _substitute(expression: str, variables: dict[str, str]) -> str:
    name = _NAME.match(expression)
    assert name is not None, f"${{{expression}}} names no variable"
    after = expression[name.end():]
    operator = next((op for op in (":-", "-", ":?", "?") if after.startswith(op)), "")
    rest = after[len(operator):]
    current = variables.get(name[0])
    if operator in (":-", "-"):
        unset = current is None or (operator == ":-" and current == "")
        return resolve(rest, variables) if unset else str(current)
    if operator in (":?", "?"):
        if current is None or (operator == ":?" and current == ""):
            raise MissingVariable(name[0], rest)
        return current
    assert current is not None, f"${{{expression}}} has no default and is not required: it would be blank"
    return current


def interpolate(value: str) -> str:
    """`value` as compose resolves it with the README's .env (:data:`DOTENV`) and nothing else set."""
    return resolve(value, DOTENV)


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    """Each service this one depends on, with the condition it waits for."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return dict.fromkeys(depends_on, "service_started")
    return {name: spec["condition"] for name, spec in depends_on.items()}


def instructions(dockerfile: Path) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical = ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        logical += line.rstrip()
        if logical.endswith("\\"):
            logical = logical[:-1] + " "
            continue
        keyword, _, arguments = logical.strip().partition(" ")
        yield keyword.upper(), arguments.strip()
        logical = ""


def copied_sources(dockerfile: Path) -> list[str]:
    """What the Dockerfile copies from the build context (not from another stage)."""
    sources: list[str] = []
    for keyword, arguments in instructions(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
        if any(word.startswith("--from=") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    Draft7Validator.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in Draft7Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_compose_file_has_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def test_every_dependency_is_a_service_of_the_file(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency in dependencies(service):
            assert dependency in services, f"{name} depends on unknown service {dependency}"


def test_a_service_waited_on_until_healthy_defines_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for dependency, condition in dependencies(service).items():
            if condition != "service_healthy":
                continue
            healthcheck = services[dependency].get("healthcheck") or {}
            assert healthcheck.get("test"), f"{name} waits for {dependency} to be healthy"
            assert not healthcheck.get("disable"), f"{dependency}'s healthcheck is disabled"


def test_a_service_waited_on_until_completed_is_never_restarted(
    services: dict[str, dict[str, Any]],
) -> None:
    for service in services.values():
        for dependency, condition in dependencies(service).items():
            if condition == "service_completed_successfully":
                assert services[dependency].get("restart", "no") == "no"


def test_every_long_running_service_restarts_unless_stopped(
    services: dict[str, dict[str, Any]],
) -> None:
    one_shot = {
        dependency
        for service in services.values()
        for dependency, condition in dependencies(service).items()
        if condition == "service_completed_successfully"
    }
    for name, service in services.items():
        if name not in one_shot:
            assert service.get("restart") == "unless-stopped", name


def test_every_build_context_and_dockerfile_exists(services: dict[str, dict[str, Any]]) -> None:
    builds = {name: s["build"] for name, s in services.items() if "build" in s}
    assert builds, "no service builds an image"
    for name, build in builds.items():
        context = COMPOSE_FILE.parent / build["context"]
        assert context.is_dir(), f"{name}: no build context {context}"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: no Dockerfile {dockerfile}"


@pytest.mark.parametrize("package", sorted(SETTINGS))
def test_every_variable_set_for_a_service_is_one_of_its_settings(
    services: dict[str, dict[str, Any]], package: str
) -> None:
    known = {field.upper() for field in SETTINGS[package].model_fields}
    runs_package = {n: s for n, s in services.items() if package_of(s) == package}
    assert runs_package, f"no service runs the {package} image"
    for name, service in runs_package.items():
        unknown = set(environment_of(service)) - known
        assert not unknown, f"{name} sets variables {package} never reads: {sorted(unknown)}"


@pytest.mark.parametrize("package", sorted(SETTINGS))
def test_the_settings_accept_the_environment_compose_gives(
    services: dict[str, dict[str, Any]], package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_class = SETTINGS[package]
    for field in settings_class.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    for service in services.values():
        if package_of(service) == package:
            values = {k.lower(): interpolate(v) for k, v in environment_of(service).items()}
            settings_class(**values)


def test_a_healthcheck_probes_the_port_its_service_binds(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        probed = _PROBE_PORT.search(test)
        if probed:
            bound = {v.rpartition(":")[2] for k, v in environment_of(service).items()
                     if k.endswith("_BIND")}
            assert probed[1] in bound, f"{name} probes port {probed[1]} but binds {bound}"


def test_the_notifier_publishes_no_host_ports_as_its_replicas_would_collide(
    services: dict[str, dict[str, Any]],
) -> None:
    notifier = services["notifier"]
    assert notifier["deploy"]["replicas"] > 1
    assert "ports" not in notifier


def test_the_notifier_image_never_includes_the_social_service(
    services: dict[str, dict[str, Any]],
) -> None:
    dockerfile = COMPOSE_FILE.parent / services["notifier"]["build"]["dockerfile"]
    assert dockerfile == DOCKERFILES["notifier"]
    for source in copied_sources(dockerfile):
        assert not Path(source).is_relative_to("services/social"), source
    assert "microblog-social" not in dockerfile.read_text()


@pytest.mark.parametrize("package", sorted(DOCKERFILES))
def test_an_image_copies_only_the_shared_packages_and_its_own_service(package: str) -> None:
    sources = {str(Path(source)) for source in copied_sources(DOCKERFILES[package])}
    own = {"social": {"services/social"}, "notifier": {"services/notifier", "templates"}}[package]
    assert sources == {"constraints.txt", "contracts", "plumbing", *own}


@pytest.mark.parametrize("package", sorted(DOCKERFILES))
def test_every_path_a_dockerfile_copies_exists_in_the_repository(package: str) -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for source in copied_sources(DOCKERFILES[package]):
        path = ROOT / source
        assert path.exists(), f"{source} is not in the repository"
        assert not path.is_symlink(), f"{source} is a symlink: copy what it points to"
        top = Path(source).parts[0]
        assert top not in ignored, f"{source} is left out of the build context by .dockerignore"


# -- the `cluster` profile: three RabbitMQ nodes, every broker client given all three --------------

CLUSTER_ENV = ROOT / "deploy" / "cluster.env"
NODES = ("rabbitmq", "rabbitmq-2", "rabbitmq-3")


def env_file(path: Path) -> dict[str, str]:
    """The variables of a compose `--env-file` (KEY=VALUE lines; # comments)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def interpolate_with(value: str, variables: dict[str, str]) -> str:
    """`value` as compose resolves it with the README's .env and `variables` (an env file) set."""
    return resolve(value, DOTENV | variables)


def mounted_configs(service: dict[str, Any]) -> dict[str, Path]:
    """The RabbitMQ config files a service mounts: where they land -> the repository's file."""
    mounts = [volume.split(":") for volume in service.get("volumes", []) if volume.startswith("./")]
    return {target: ROOT / source for source, target, *_ in mounts if target.startswith("/etc/rabbitmq/")}


def rabbitmq_nodes(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run a RabbitMQ node (broker-users runs the same image, for its CLI only)."""
    return {name: s for name, s in services.items()
            if str(s.get("image", "")).startswith("rabbitmq:") and "command" not in s}


def broker_clients(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if "AMQP_URL" in environment_of(s)
            and dependencies(s).get("rabbitmq")}


def test_the_cluster_profile_runs_three_rabbitmq_nodes_sharing_a_cookie_the_others_join_the_first(
    services: dict[str, dict[str, Any]],
) -> None:
    nodes = rabbitmq_nodes(services)
    assert sorted(nodes) == list(NODES)
    assert "profiles" not in nodes["rabbitmq"], "the first node is the one broker of a plain `docker compose up`"
    assert [s["hostname"] for s in nodes.values()] == list(NODES), "a node's name follows its hostname"
    cookies = {environment_of(s).get("RABBITMQ_ERLANG_COOKIE") for s in nodes.values()}
    assert len(cookies) == 1 and None not in cookies, "the nodes of a cluster share one Erlang cookie"
    data = {v.split(":")[0] for s in nodes.values() for v in s["volumes"] if v.endswith(":/var/lib/rabbitmq")}
    assert len(data) == 3, "each node keeps its own data"
    first = f"rabbit@{nodes['rabbitmq']['hostname']}"
    for name in NODES[1:]:
        assert nodes[name]["profiles"] == ["cluster"]
        assert dependencies(nodes[name]) == {"rabbitmq": "service_healthy"}, "they join a node that runs"
        joined = "\n".join(path.read_text() for path in mounted_configs(nodes[name]).values())
        assert "cluster_formation.peer_discovery_backend = classic_config" in joined
        assert f"cluster_formation.classic_config.nodes.1 = {first}" in joined
    for name, node in nodes.items():
        configs = mounted_configs(node)
        assert all(path.is_file() for path in configs.values()), f"{name} mounts a config file that is missing"
        assert any("cluster_partition_handling = pause_minority" in p.read_text() for p in configs.values()), name


def test_with_the_cluster_env_file_every_broker_client_is_given_all_three_nodes(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from microblog_plumbing.brokers import split_amqp_urls
    from pika import URLParameters

    variables = {name: resolve(value, DOTENV) for name, value in env_file(CLUSTER_ENV).items()}
    assert variables["COMPOSE_PROFILES"] == "cluster"
    clients = broker_clients(services)
    assert {package_of(s) for s in clients.values()} == {"social", "notifier"}
    for field in {*SocialSettings.model_fields, *NotifierSettings.model_fields}:
        monkeypatch.delenv(field.upper(), raising=False)
    for name, service in clients.items():
        env = {k: interpolate_with(v, variables) for k, v in environment_of(service).items()}
        brokers = [URLParameters(url) for url in split_amqp_urls(env["AMQP_URL"])]
        assert sorted((b.host, b.port) for b in brokers) == [(node, 5672) for node in NODES], name
        single = interpolate(environment_of(service)["AMQP_URL"])
        assert [URLParameters(url).host for url in split_amqp_urls(single)] == ["rabbitmq"], name
        package = package_of(service)
        assert package is not None
        SETTINGS[package](**{k.lower(): v for k, v in env.items()})


def test_the_broker_clients_wait_for_the_other_nodes_only_when_the_profile_runs_them(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in broker_clients(services).items():
        depends_on = service["depends_on"]
        for node in NODES[1:]:
            assert depends_on[node] == {"condition": "service_healthy", "required": False}, name


# -- security: no secret in the file, loopback only, the broker's own users ------------------------

USERS_SCRIPT = ROOT / "deploy" / "rabbitmq" / "users.sh"
_PERMISSIONS = re.compile(r"set_permissions --vhost / (\w+) \\\n\s+'([^']*)' \\\n\s+'([^']*)' \\\n\s+'([^']*)'")
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


def strings_of(node: object) -> Iterator[str]:
    """Every string value in a parsed YAML document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_of(value)


def resolved_env(service: dict[str, Any], variables: dict[str, str] | None = None) -> dict[str, str]:
    return {k: interpolate_with(v, variables or {}) for k, v in environment_of(service).items()}


def broker_permissions() -> dict[str, tuple[str, str, str]]:
    """users.sh's permissions: user -> (configure, write, read) regexes."""
    return {user: perms for user, *perms in _PERMISSIONS.findall(USERS_SCRIPT.read_text())}  # type: ignore[misc]


@pytest.mark.parametrize("secret", sorted(DOTENV))
def test_compose_stops_before_starting_anything_without_each_secret_and_names_it(
        compose: dict[str, Any], secret: str) -> None:
    without = {name: value for name, value in DOTENV.items() if name != secret}
    with pytest.raises(MissingVariable) as caught:
        [resolve(value, without) for value in strings_of(compose)]
    assert caught.value.name == secret
    assert "README" in str(caught.value)


def test_every_password_and_key_compose_hands_out_comes_from_the_env_file(services: dict[str, dict[str, Any]]) -> None:
    secrets = set(DOTENV.values())
    for name, service in services.items():
        for variable, value in resolved_env(service).items():
            for password in _URL_PASSWORD.findall(value):
                assert password in secrets, f"{name}: {variable} carries a password written into compose.yaml"
            if re.search(r"SECRET|PASS|COOKIE|KEY|TOKEN", variable):
                assert value in secrets, f"{name}: {variable} has a value written into compose.yaml"
    assert "://guest:" not in COMPOSE_FILE.read_text() + CLUSTER_ENV.read_text(), "the broker has users of its own"


def test_the_broker_its_management_ui_and_the_mail_catcher_listen_on_loopback_only(
        services: dict[str, dict[str, Any]]) -> None:
    published = {name: service["ports"] for name, service in services.items()
                 if name in {*rabbitmq_nodes(services), "mailpit"} and "ports" in service}
    assert set(published) == {"rabbitmq", "mailpit"}
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


def test_the_relay_and_the_notifier_each_have_a_broker_user_of_their_own_and_the_notifier_trusts_the_relays(
        services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    from microblog_plumbing.brokers import split_amqp_urls
    from pika import URLParameters

    for field in NotifierSettings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    cluster = {name: resolve(value, DOTENV) for name, value in env_file(CLUSTER_ENV).items()}
    for variables in ({}, cluster):
        users = {}
        for name in ("relay", "notifier"):
            urls = split_amqp_urls(resolved_env(services[name], variables)["AMQP_URL"])
            users[name] = {URLParameters(url).credentials.username for url in urls}  # type: ignore[attr-defined]
        assert users == {"relay": {"relay"}, "notifier": {"notifier"}}
        notifier = NotifierSettings(**{k.lower(): v for k, v in resolved_env(services["notifier"], variables).items()})
        assert notifier.trusted_publishers == {"relay", "notifier"}
    for name in ("relay", "notifier"):
        assert dependencies(services[name])["broker-users"] == "service_completed_successfully"


def test_broker_users_makes_the_administrator_the_relay_and_the_notifier_and_removes_guest(
        services: dict[str, dict[str, Any]]) -> None:
    script = USERS_SCRIPT.read_text()
    broker_users = services["broker-users"]
    mounted = {target: ROOT / source for source, target, *_ in
               (volume.split(":") for volume in broker_users["volumes"])}
    assert mounted[broker_users["command"][-1]] == USERS_SCRIPT
    assert dependencies(broker_users) == {"rabbitmq": "service_healthy"}
    assert set(broker_permissions()) == {"relay", "notifier"}
    assert 'ensure_user "$RABBITMQ_DEFAULT_USER" "$RABBITMQ_DEFAULT_PASS" administrator' in script
    assert "ctl delete_user guest" in script
    env = environment_of(broker_users)
    assert "RABBITMQ_ERLANG_COOKIE" in env, "rabbitmqctl reaches the node with the cluster's cookie"
    for variable in ("RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RELAY_AMQP_PASSWORD", "NOTIFIER_AMQP_PASSWORD"):
        assert f'"${variable}"' in script and variable in env, variable
    for name, node in rabbitmq_nodes(services).items():
        assert environment_of(node)["RABBITMQ_DEFAULT_USER"], f"{name} would start a blank node with guest"


def test_every_rabbitmq_node_refuses_messages_far_larger_than_an_event(services: dict[str, dict[str, Any]]) -> None:
    from microblog_contracts import MAX_EVENT_BYTES

    for name, node in rabbitmq_nodes(services).items():
        configs = "\n".join(path.read_text() for path in mounted_configs(node).values())
        found = re.search(r"^max_message_size = (\d+)$", configs, re.MULTILINE)
        assert found, f"{name} keeps RabbitMQ's default maximum message size"
        assert MAX_EVENT_BYTES <= int(found[1]) <= 1024 * 1024, name
