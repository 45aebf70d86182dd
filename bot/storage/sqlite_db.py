"""Opening the bot's SQLite database the same way everywhere."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bot.storage.schema import ensure_schema


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid of the row an INSERT just added (sqlite3 types ``lastrowid`` as optional: None before any insert)."""
    rowid = cursor.lastrowid
    if rowid is None:
        raise RuntimeError("the statement inserted no row")
    return rowid


def connect(path: Path) -> sqlite3.Connection:
    """A connection shared across worker threads (callers serialise with a lock), in WAL mode so readers
    don't block the writer, with a short busy timeout: a locked database costs a record, never an answer.
    The schema (``bot.storage.schema``) is created or brought up to date on the way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, timeout=0.5, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        ensure_schema(db)
    except BaseException:
        db.close()
        raise
    return db


class Database:
    """One connection to the bot's SQLite file, used under a lock from worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = connect(path)

    def close(self) -> None:
        with self._lock:
            self._db.close()
