"""Opening the bot's SQLite database the same way everywhere."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


def connect(path: Path, schema: str) -> sqlite3.Connection:
    """A connection shared across worker threads (callers serialise with a lock), in WAL mode so readers
    don't block the writer, with a short busy timeout: a locked database costs a record, never an answer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, timeout=0.5, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db


class Database:
    """One connection to the bot's SQLite file, used under a lock from worker threads."""

    SCHEMA = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = connect(path, self.SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()
