"""The node's data folder is private: the folder 0700, every file in it 0600.

It holds the SQLite database (own emissions, bills of materials, sealed evidence, the audit log, API key hashes),
``node.json`` and whatever else a node or the demo keeps there (identity files, CRLs, logs). Files are created 0600
and anything found more open is tightened when a node opens the folder, so a folder made by an older version (files
0644) is fixed by its next start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` if it is ours and more open; a file of another user (a read-only mount) is left."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) == mode:
            return
        os.chmod(path, mode)
    except OSError:
        pass


def secure_folder(folder: Path) -> None:
    """Create ``folder`` 0700 if missing; make it and everything under it that we own 0700 (folders) / 0600 (files)."""
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(folder, DIR_MODE)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            _tighten(Path(root, name), DIR_MODE)
        for name in files:
            _tighten(Path(root, name), FILE_MODE)


def create_private(path: Path) -> None:
    """Create an empty file 0600 if it does not exist (before SQLite opens it: its -wal and -shm files copy the
    database file's mode); an existing one is tightened, with the -wal and -shm beside it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if each.exists():
                _tighten(each, FILE_MODE)


def write_private(path: Path, text: str) -> None:
    """Write a text file readable by its owner only (also when it existed before with a wider mode)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fd, FILE_MODE)
        fh.write(text)
