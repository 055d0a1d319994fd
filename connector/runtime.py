"""What a serving process holds for its lifetime: the SQLite database (one process only) and a worker slot, whose
lease holder id lets the process started after a crash take back the outbox leases it held."""

from __future__ import annotations

import fcntl
import os
import uuid
from pathlib import Path
from typing import IO

from .config import Settings
from .errors import ConnectorError

_HELD: list[IO[bytes]] = []
"""Open lock files: a ``flock`` lasts as long as its file stays open, so these stay open until the process ends
(the kernel drops the locks of a killed process)."""

NODE_ID_FILE = "lease-holder-id"
SLOTS_DIR = "worker-slots"


class DatabaseInUse(ConnectorError):
    status = 409
    type_ = "database-in-use"
    title = "Database in use"


class WorkersNeedPostgres(ConnectorError):
    status = 409
    type_ = "workers-need-postgresql"
    title = "Several workers need PostgreSQL"


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse several worker processes on SQLite, which is served by one process (:func:`hold_database`)."""
    if workers > 1 and settings.is_sqlite:
        raise WorkersNeedPostgres(
            f"--workers {workers} needs PostgreSQL: this node's database is SQLite ({settings.database_url}), "
            "which one process serves; run one worker, or move the node to PostgreSQL (docs/deployment-guide.md)"
        )


def _try_lock(path: Path) -> IO[bytes] | None:
    """The open file, locked exclusively; None when another open file (in any process) holds the lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 - kept open: the lock is the open file's
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    os.chmod(path, 0o600)
    return handle


def sqlite_path(settings: Settings) -> Path | None:
    """The file of the node's SQLite database; None for PostgreSQL or an in-memory database."""
    url = str(settings.database_url)
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return None
    return Path(url.split("sqlite:///", 1)[1])


def hold_database(settings: Settings) -> Path | None:
    """Refuse to serve a SQLite database another process serves: SQLite is one process per database (its writers
    queue on one file lock, and two outbox workers would each believe they own the queue). Takes
    ``<database>.lock`` until the process ends; raises :class:`DatabaseInUse` when it is held. PostgreSQL takes
    several processes: nothing to hold (None)."""
    path = sqlite_path(settings)
    if path is None:
        return None
    lock = path.with_name(path.name + ".lock")
    handle = _try_lock(lock)
    if handle is None:
        raise DatabaseInUse(
            f"another connector process is already serving {path} (it holds {lock}); a SQLite "
            "database is served by one process: stop the other one, or move to PostgreSQL to run several"
        )
    _HELD.append(handle)
    return lock


def lease_holder(data_dir: Path) -> str:
    """This process's outbox lease holder id: ``<node id>/<slot>``, stable across restarts.

    The node id is made once per data dir (``lease-holder-id``). The slot is the lowest free
    ``worker-slots/<n>.lock`` this process can lock; it is freed when the process ends, so a process started after
    one was killed takes its slot, and its id, and reclaims its leases. Processes running on one PostgreSQL database
    from one data dir hold different slots; from different data dirs, different node ids: none reclaims another's.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    id_file = data_dir / NODE_ID_FILE
    if not id_file.exists():
        tmp = id_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(str(uuid.uuid4()) + "\n")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, id_file)  # first writer wins; a process starting at the same moment reads its id
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    node_id = id_file.read_text().strip()
    slot = 0
    while True:
        handle = _try_lock(data_dir / SLOTS_DIR / f"{slot}.lock")
        if handle is not None:
            _HELD.append(handle)
            return f"{node_id}/{slot}"
        slot += 1


POLLER_SLOT = 0
"""The worker slot whose process polls (the Ouranos platforms): one per data dir at any time."""


def runs_pollers(holder: str | None) -> bool:
    """Whether the process with this lease holder id polls: the one holding worker slot 0 of its data dir, so the
    worker processes of one ``connector serve --workers N`` poll once, not N times; a worker restarted after a
    crash takes the freed slot, and the polling with it. None (a node without a slot: in-process, tests) polls."""
    return holder is None or holder.rsplit("/", 1)[-1] == str(POLLER_SLOT)


def release_all() -> None:
    """Close every lock file this process holds (tests; a process that ends releases them anyway)."""
    while _HELD:
        _HELD.pop().close()


def claim_process(settings: Settings) -> str:
    """What ``connector serve`` holds before it starts: the SQLite database (:func:`hold_database`) and a worker
    slot; returns the outbox lease holder id (:func:`lease_holder`)."""
    hold_database(settings)
    return lease_holder(settings.data_dir)
