"""What every node command needs: its settings (node.json, the environment, the options), its identity, a session,
and one-line errors instead of tracebacks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session

from ..config import Settings
from ..errors import ConnectorError
from ..services.context import NodeContext
from ..services.identity import load_identity
from ..storage.db import create_schema, make_engine
from ..storage.private import secure_folder
from .common import die, env_has, first_error, read_json

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Node data folder (default: $CONNECTOR_DATA_DIR or .connector)")
]


def checked_settings(**values: object) -> Settings:
    """Settings, or a one-line error naming the setting that is wrong (not a pydantic traceback)."""
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        die(f"invalid setting {first_error(exc)}")


def load_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from ``<data-dir>/node.json``, overridden by the environment (CONNECTOR_*), then by explicit options."""
    base = checked_settings()
    folder = data_dir or base.data_dir
    values: dict[str, object] = {}
    config_file = folder / "node.json"
    if config_file.exists():
        recorded = read_json(config_file, "node settings")
        if not isinstance(recorded, dict):
            die(f"node settings {config_file} must be a JSON object")
        values.update(recorded)
    # only what the environment really set: the database_url the validator derives from the default data dir is not
    env = base.model_dump(include=base.model_fields_set - {"data_dir", "database_url"})
    if any(k.upper() == "CONNECTOR_DATABASE_URL" for k in os.environ):
        env["database_url"] = base.database_url
    values.update(env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = folder
    return checked_settings(**values)


def node_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """The settings of an existing node: a folder without ``node.json`` is refused (a mistyped --data-dir would
    otherwise start an empty node), unless the environment configures the node (CONNECTOR_COMPANY_ID, as in a
    container). The folder is made private (0700, its files 0600)."""
    folder = data_dir or checked_settings().data_dir
    if not (folder / "node.json").is_file() and not env_has("CONNECTOR_COMPANY_ID"):
        die(
            f"no node in {folder} (no node.json): run connector init --data-dir {folder} first, "
            "or set CONNECTOR_COMPANY_ID and the other settings in the environment"
        )
    settings = load_settings(folder, **overrides)
    secure_folder(settings.data_dir)
    return settings


def node_identity(settings: Settings):  # noqa: ANN202 - NodeIdentity, imported lazily by services.identity
    try:
        return load_identity(settings)
    except (OSError, ValueError) as exc:
        die(f"cannot load the node's identity files: {exc}")


@contextmanager
def node_context(settings: Settings) -> Iterator[NodeContext]:
    identity = node_identity(settings)
    engine = make_engine(str(settings.database_url))
    create_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield NodeContext(session=session, settings=settings, identity=identity)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    engine.dispose()


def fail(exc: ConnectorError) -> None:
    """A service's refusal as one line: its detail, and the first field error when the detail does not say it."""
    first = exc.errors[0] if exc.errors else None
    if first and str(first.get("message")) not in exc.detail:
        die(f"{exc.detail} ({first.get('field')}: {first.get('message')})")
    die(exc.detail)


@contextmanager
def command_context(data_dir: Path | None) -> Iterator[NodeContext]:
    """A command's work on the node of ``data_dir``, in one transaction; a service's refusal ends it as one line."""
    with node_context(node_settings(data_dir)) as ctx:
        try:
            yield ctx
        except ConnectorError as exc:
            fail(exc)
