"""compose/: the docker-compose dataspace is checked by reading it (no Docker needed).

Every node of the fixture has a service; every CONNECTOR_* variable is a real setting and the env files load into
Settings; every command the services, the CA job and the bootstrap script run is a real ``connector`` command with
real options; every file a node is pointed at is one the CA job writes; every database URL names the postgres
service and a database (and role) its init script creates.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel

from connector.cli.main import app
from connector.config import Settings
from tests.conftest import FIXTURE_FILE

yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extras: pip install -e '.[test]'")

COMPOSE = Path(__file__).resolve().parents[2] / "compose"
INFRA = {"ca-init", "postgres"}


def slug(company_id: str) -> str:
    return company_id.rsplit(":", 1)[-1]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def fixture_doc() -> dict[str, Any]:
    return json.loads(FIXTURE_FILE.read_text())


def node_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in spec["services"].items() if name not in INFRA}


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines and # comments only: the subset both Docker Compose and this test read the same way."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key), f"{path.name}:{number}: not KEY=VALUE: {raw!r}"
        assert key not in values, f"{path.name}:{number}: {key} set twice"
        assert "$" not in value, f"{path.name}:{number}: Compose would interpolate {value!r}"
        assert not (value[:1] in "'\"" or " #" in value), f"{path.name}:{number}: quotes or comments in a value"
        values[key] = value
    return values


def env_of(service: dict[str, Any]) -> dict[str, str]:
    files = service.get("env_file") or []
    env: dict[str, str] = {}
    for name in [files] if isinstance(files, str) else files:
        env.update(read_env_file(COMPOSE / name))
    inline = service.get("environment") or {}
    if isinstance(inline, list):
        inline = dict(item.split("=", 1) for item in inline)
    env.update({k: str(v) for k, v in inline.items()})
    return env


def shell_commands(script: Path) -> list[list[str]]:
    """The simple commands of a plain sh script: continuations joined, comments dropped, split at ``;`` ``&&`` ``||``."""
    commands: list[list[str]] = []
    for line in script.read_text().replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token in (";", "&&", "||"):
                if words and words[0] not in ("[", "if", "then", "fi", "else", "exit", "echo", "set"):
                    commands.append(words)
                words = []
            else:
                words.append(token)
    return commands


def check_connector_command(words: list[str]) -> None:
    """``connector <group>... <command> [args]``: the command path exists and every --option is one of its options."""
    assert words[0] == "connector", words
    command = typer.main.get_command(app)  # typer may vendor its own click: groups are told by .commands
    path = []
    rest = words[1:]
    while isinstance(getattr(command, "commands", None), dict):
        assert rest, f"{shlex.join(words)}: no command after {path}"
        name, rest = rest[0], rest[1:]
        assert name in command.commands, f"{shlex.join(words)}: `connector {' '.join([*path, name])}` does not exist"
        command, path = command.commands[name], [*path, name]
    known = {opt for param in command.params for opt in param.opts + param.secondary_opts}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in known, f"{shlex.join(words)}: {word} is not an option of {path}"


def ca_init_outputs() -> set[str]:
    """Every file the CA job writes under /pki (the volume the nodes mount)."""
    produced: set[str] = set()
    for words in shell_commands(COMPOSE / "ca-init.sh"):
        if words[0] == "connector":
            opts = dict(zip(words[1:], words[2:], strict=False))
            if words[1:3] == ["ca", "issue"]:
                out, stem = opts["--out"], opts["--stem"]
                produced |= {f"{out}/{stem}.key", f"{out}/{stem}.pem", f"{out}/{stem}.chain.pem"}
            elif words[1:3] == ["ca", "crl"]:
                produced.add(opts["--out"])
        elif words[0] == "cp":
            *sources, dest = words[1:]
            for src in sources:
                produced.add(
                    dest
                    if len(sources) == 1 and not dest.endswith("/")
                    else str(PurePosixPath(dest) / PurePosixPath(src).name)
                )
    return {p for p in produced if p.startswith("/pki/")}


def referenced_paths(value: Any) -> set[str]:
    text = json.dumps(value) if not isinstance(value, str) else value
    return set(re.findall(r"/pki/[A-Za-z0-9._/-]+", text))


# --------------------------------------------------------------------------------------------------------------------


def test_every_node_of_the_fixture_has_a_service(spec, fixture_doc):
    wanted = {slug(c["companyId"]): c["companyId"] for c in fixture_doc["companies"]}
    wanted[slug(fixture_doc["verifier"]["companyId"])] = fixture_doc["verifier"]["companyId"]
    nodes = node_services(spec)
    assert set(nodes) == set(wanted)
    assert INFRA <= set(spec["services"])
    for name, company_id in wanted.items():
        env = env_of(nodes[name])
        assert env["CONNECTOR_COMPANY_ID"] == company_id
        assert env["CONNECTOR_PUBLIC_URL"] == f"https://{name}:{env['CONNECTOR_LISTEN_PORT']}"
        assert env["CONNECTOR_LISTEN_HOST"] == "0.0.0.0"


def test_env_variables_are_real_settings_and_load(spec, monkeypatch):
    fields = Settings.model_fields
    for name, service in node_services(spec).items():
        env = env_of(service)
        for key in env:
            assert key.startswith("CONNECTOR_"), f"{name}: {key}"
            top, *nested = key.removeprefix("CONNECTOR_").lower().split("__")
            assert top in fields, f"{name}: {key} is not a setting (connector/config.py)"
            if nested:  # CONNECTOR_A__B: only into a dict or a model
                annotation = fields[top].annotation
                assert getattr(annotation, "__origin__", annotation) is dict or (
                    isinstance(annotation, type) and issubclass(annotation, BaseModel)
                ), f"{name}: {key}"
        for key in list(os.environ):
            if key.startswith("CONNECTOR_"):
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()  # the values parse: JSON lists, URLs, ports
        assert settings.company_id == env["CONNECTOR_COMPANY_ID"]
        assert not settings.is_sqlite and not settings.allow_insecure_http
        assert settings.tls_cert_file and settings.tls_key_file and settings.key_file and settings.cert_file
        assert settings.trust_anchor_files and settings.crl_files and settings.token_secret


def test_service_commands_are_real_connector_commands(spec):
    for name, service in spec["services"].items():
        command = service.get("command")
        if name == "postgres":
            assert command is None
            continue
        assert isinstance(command, list), f"{name}: use the exec form"
        if command[0] == "sh":
            script = PurePosixPath(command[1]).name
            dockerfile = (COMPOSE / "Dockerfile").read_text()
            assert f"COPY compose/{script} {command[1]}" in dockerfile
            runs = [w for w in shell_commands(COMPOSE / script) if w[0] == "connector"]
            assert runs
            for words in runs:
                check_connector_command(words)
        else:
            check_connector_command(command)
            assert command[1] == "serve"


def test_bootstrap_and_readme_commands_are_real():
    bootstrap = (COMPOSE / "bootstrap.py").read_text()
    calls = re.findall(r'connector\(service, ((?:"[^"]*", )*"[^"]*")', bootstrap)
    assert calls
    for call in calls:
        check_connector_command(["connector", "import", *json.loads(f"[{call}]")[1:]])
    init = re.search(r"'(connector init [^']*)'\s*\n\s*'([^']*)'", bootstrap)
    assert init
    check_connector_command(shlex.split(init.group(1) + init.group(2)))
    readme = (COMPOSE / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", readme, re.S)
    found = 0
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            for match in re.finditer(r"(?:^|exec -T \S+ |exec \S+ |run --rm \S+ )(connector [^|;&'\"]*)", line):
                words = shlex.split(match.group(1), comments=True)
                check_connector_command(words)
                found += 1
    assert found >= 3


def test_files_the_nodes_use_are_written_by_ca_init(spec):
    produced = ca_init_outputs()
    assert "/pki/trust/root.pem" in produced
    ca = spec["services"]["ca-init"]
    assert "pki:/pki" in ca["volumes"]
    for name, service in node_services(spec).items():
        env = env_of(service)
        used = referenced_paths(env) | referenced_paths(service)
        assert used, name
        missing = used - produced
        assert not missing, f"{name} uses files the CA job does not write: {sorted(missing)}"
        for key in ("CONNECTOR_KEY_FILE", "CONNECTOR_CERT_FILE", "CONNECTOR_TLS_CERT_FILE", "CONNECTOR_TLS_KEY_FILE"):
            assert env[key].startswith(f"/pki/{name}/"), f"{name}: {key} is another node's file"
        assert "pki:/pki:ro" in service["volumes"]
        assert service["depends_on"]["ca-init"]["condition"] == "service_completed_successfully"


def test_company_certificates_match_the_fixture(fixture_doc):
    issued = {}
    for words in shell_commands(COMPOSE / "ca-init.sh"):
        if words[:3] == ["connector", "ca", "issue"] and "--company-id" in words:
            opts = dict(zip(words[3::1], words[4::1], strict=False))
            issued[opts["--company-id"]] = (opts["--name"], opts["--role"], opts["--out"])
    companies = [*fixture_doc["companies"], {**fixture_doc["verifier"], "role": "verifier"}]
    assert set(issued) == {c["companyId"] for c in companies}
    for c in companies:
        assert issued[c["companyId"]] == (c["name"], c["role"], f"/pki/{slug(c['companyId'])}")


def test_database_urls_point_at_the_postgres_init_script(spec):
    sql = (COMPOSE / "postgres" / "init.sql").read_text()
    roles = dict(re.findall(r"CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)';", sql))
    databases = dict(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+);", sql))
    mounted = [v for v in spec["services"]["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert mounted and mounted[0].startswith("./postgres/init.sql:")
    seen = set()
    for name, service in node_services(spec).items():
        url = env_of(service)["CONNECTOR_DATABASE_URL"]
        m = re.fullmatch(r"postgresql://(\w+):([^@]+)@postgres:5432/(\w+)", url)
        assert m, f"{name}: {url} is not a URL of the postgres service"
        user, password, database = m.groups()
        assert database in databases, f"{name}: database {database} is not created by init.sql"
        assert databases[database] == user and roles.get(user) == password, f"{name}: role {user} does not match"
        assert database not in seen, f"{name}: database {database} is shared"
        seen.add(database)
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_ports_and_bootstrap_agree(spec):
    module_spec = importlib.util.spec_from_file_location("compose_bootstrap", COMPOSE / "bootstrap.py")
    assert module_spec and module_spec.loader
    bootstrap = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(bootstrap)
    published = {}
    for name, service in node_services(spec).items():
        env = env_of(service)
        (mapping,) = service["ports"]
        host, port, target = mapping.split(":")
        assert host == "127.0.0.1" and target == env["CONNECTOR_LISTEN_PORT"] == str(bootstrap.INTERNAL_PORT)
        published[name] = int(port)
        assert bootstrap.internal_url(name) == env["CONNECTOR_PUBLIC_URL"]
    assert published == bootstrap.NODES
    assert len(set(published.values())) == len(published)


def test_the_checks_can_fail(tmp_path):
    """The helpers reject what they should: an unknown command, an unknown option, a bad env line."""
    with pytest.raises(AssertionError):
        check_connector_command(["connector", "ca", "sign"])
    with pytest.raises(AssertionError):
        check_connector_command(["connector", "serve", "--data-directory", "/data"])
    bad = tmp_path / "bad.env"
    bad.write_text('CONNECTOR_COMPANY_NAME="quoted"\n')
    with pytest.raises(AssertionError):
        read_env_file(bad)
    assert "CONNECTOR_NO_SUCH_SETTING".removeprefix("CONNECTOR_").lower() not in Settings.model_fields
