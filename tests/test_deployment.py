"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine), so this keeps them
true to the code: every command they run is a real `anlao` command with real options, every
ANLAO_* variable they set is one the settings read, secrets come from the environment, every
service has a health check whose URL or command exists, and data lives on named volumes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from portal import create_app
from portal.cli import main
from services.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ANLAO = {name: s for name, s in SERVICES.items() if s.get("image", "").startswith("anlao")}


class ReadKeys(dict[str, str]):
    """An environment that remembers which names were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def settings_names(tmp_path: Path) -> set[str]:
    env = ReadKeys()
    env["ANLAO_INSTANCE_PATH"] = str(tmp_path)
    Settings.from_env(env)
    return env.asked


def parse_command(argv: list[str]) -> click.Context:
    """Resolve an `anlao ...` command line the way the CLI would, without running it."""
    assert argv[0] == "anlao", argv
    command: click.Command = main
    context = click.Context(main, info_name="anlao")
    name, args = "anlao", argv[1:]
    while isinstance(command, click.Group):
        assert args, f"{argv} names no command"
        name, args = args[0], args[1:]
        found = command.get_command(context, name)
        assert found is not None, f"no such command {name!r} in {argv}"
        command = found
        if isinstance(command, click.Group):
            context = click.Context(command, info_name=name, parent=context)
    return command.make_context(name, list(args), parent=context)


def commands() -> Iterator[tuple[str, list[str]]]:
    for name, service in ANLAO.items():
        yield f"{name}.command", service["command"]
        test = service.get("healthcheck", {}).get("test", [])
        if test[:2] == ["CMD", "anlao"]:
            yield f"{name}.healthcheck", test[1:]
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert dockerfile_cmd, "the Dockerfile has no CMD"
    yield "Dockerfile CMD", yaml.safe_load(dockerfile_cmd.group(1))


@pytest.mark.parametrize(("where", "argv"), list(commands()), ids=lambda v: str(v))
def test_every_command_is_a_real_anlao_command_with_real_options(where, argv) -> None:
    context = parse_command(argv)
    assert context.command.callback is not None, where


def test_the_web_and_worker_split_is_what_production_mode_needs() -> None:
    web = parse_command(ANLAO["web"]["command"]).params
    assert web["projections"] is False  # the separate worker follows the log
    assert web["workers"] >= 2 and web["host"] == "0.0.0.0"
    assert str(web["port"]) in " ".join(ANLAO["web"]["ports"])
    assert ANLAO["projections"]["command"][:3] == ["anlao", "projections", "run"]


def test_every_anlao_variable_is_one_the_settings_read(tmp_path: Path) -> None:
    read = settings_names(tmp_path)
    for name, service in ANLAO.items():
        names = {k for k in service["environment"] if k.startswith("ANLAO_")}
        assert names, name
        assert names <= read, f"{name} sets variables nothing reads: {names - read}"
    assert {"ANLAO_DATABASE_URL", "ANLAO_SECRET_KEY"} <= set(ANLAO["web"]["environment"])


def test_secrets_come_from_the_environment_and_are_required() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in ("POSTGRES_PASSWORD", "ANLAO_SECRET_KEY"):
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} is not required from env"
    assert not re.search(r"PASSWORD: [A-Za-z0-9]", text), "a literal password in the file"
    url = ANLAO["web"]["environment"]["ANLAO_DATABASE_URL"]
    assert "${POSTGRES_PASSWORD" in url and url.endswith("@db:5432/anlao")


def test_every_service_has_a_health_check_and_waits_for_a_healthy_database(tmp_path) -> None:
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ANLAO:
        assert ANLAO[name]["depends_on"]["db"]["condition"] == "service_healthy", name
    app = create_app({"ANLAO_SETTINGS": Settings(instance_path=tmp_path,
                                                 database_url=f"sqlite:///{tmp_path}/a.db",
                                                 secret_key="x")})  # fmt: skip
    try:
        paths = {r.rule for r in app.url_map.iter_rules()}
        probe = " ".join(ANLAO["web"]["healthcheck"]["test"])
        url_path = re.search(r"http://127\.0\.0\.1:8000(/[a-z]+)", probe)
        assert url_path and url_path.group(1) in paths
        assert app.test_client().get(url_path.group(1)).status_code == 200
    finally:
        app.extensions["anlao"].dispose()


def test_data_lives_on_named_volumes() -> None:
    named = set(COMPOSE["volumes"])
    mounts = [v.split(":")[0] for s in SERVICES.values() for v in s.get("volumes", [])]
    assert mounts and set(mounts) <= named
    assert any(v.endswith(":/var/lib/postgresql/data") for v in SERVICES["db"]["volumes"])
    for name in ANLAO:
        path = ANLAO[name]["environment"]["ANLAO_INSTANCE_PATH"]
        assert any(v.endswith(":" + path) for v in ANLAO[name]["volumes"]), name


def test_the_readme_explains_the_compose_file() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)
    assert len(section) == 2, "README has no Production section"
    for needed in ("docker compose up", "POSTGRES_PASSWORD", "ANLAO_SECRET_KEY", "/readyz",
                   "anlao projections run"):  # fmt: skip
        assert needed in section[1], needed
