"""What several bot processes sharing one database agree on: which index generation is live, and who may
change the corpus.

* ``publish(generation, action)`` records a generation once it is live (written once, in the shared index
  folder); with PostgreSQL it also sends a notification on ``CHANNEL`` in the same transaction.
* ``latest()`` is the newest record; every process swaps that generation in (``bot.serving.follower``).
* ``changes()`` waits for the next notification (PostgreSQL LISTEN) or a timeout (SQLite polls).
* ``writer_lock()`` serialises corpus writers across processes: a PostgreSQL advisory lock (across hosts), or
  an exclusive ``flock`` on a file beside the SQLite database (one host). Both are released by the operating
  system or the server if the holder dies, so a killed process never leaves the corpus locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserFacingError
from bot.storage.database import Database, Target
from bot.storage.heartbeats import this_host

log = logging.getLogger(__name__)

CHANNEL = "redlines_index"
# pg_advisory_lock key of the corpus writers ("rl-corpus" in ASCII, as a signed 64-bit number).
WRITER_LOCK = 0x726C2D636F727075


class CorpusBusy(UserFacingError):
    """Another process is changing the corpus and did not finish in time."""


@dataclass(frozen=True)
class Published:
    id: int
    generation: str
    published_at: float
    action: str
    host: str
    pid: int


class Coordination(Database):
    def __init__(self, target: Target) -> None:
        super().__init__(target)

    # ---- the live generation ---------------------------------------------------------------------------------

    def publish(self, generation: str, action: str) -> int:
        """Record ``generation`` as the one every process should serve; with PostgreSQL, notify them now."""
        values = (generation, time.time(), action, this_host(), os.getpid())
        insert = ("INSERT INTO index_generations (generation, published_at, action, host, pid)"
                  " VALUES (?, ?, ?, ?, ?) RETURNING id")
        if self.dialect.name == "sqlite":
            return self.insert(insert, values)
        with self._lock:
            connection = self._connection()
            with connection.transaction():  # the notification is delivered when (and only if) the row is committed
                published = connection.execute(self.dialect.sql(insert), values).fetchone()[0]
                connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(published)))
        return int(published)

    def latest(self) -> Published | None:
        rows = self.execute("SELECT id, generation, published_at, action, host, pid FROM index_generations"
                            " ORDER BY id DESC LIMIT 1")
        return Published(*rows[0]) if rows else None

    async def changes(self, timeout: float) -> AsyncIterator[None]:
        """Yield after each notification from another process, or after ``timeout`` seconds without one (so a
        caller also polls, which covers SQLite and a notification lost while reconnecting)."""
        if self.dialect.name == "sqlite":
            while True:
                await asyncio.sleep(timeout)
                yield
        while True:
            try:
                connection = await self._listening()
            except Exception:  # noqa: BLE001 - PostgreSQL unreachable: poll until it comes back
                log.warning("cannot listen for index changes on %s; polling every %.0f s", self.where, timeout,
                            exc_info=True)
                await asyncio.sleep(timeout)
                yield
                continue
            try:
                while True:
                    async for _ in connection.notifies(timeout=timeout, stop_after=1):
                        pass
                    yield
            except Exception:  # noqa: BLE001 - the connection dropped: reconnect and carry on
                log.warning("lost the notification connection to %s; reconnecting", self.where, exc_info=True)
                yield
            finally:
                await connection.close()

    async def _listening(self):
        import psycopg

        connection = await psycopg.AsyncConnection.connect(str(self.target), autocommit=True, connect_timeout=5,
                                                           application_name="redlines-bot listener")
        await connection.execute(f"LISTEN {CHANNEL}")
        return connection

    # ---- corpus writers ------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(self, wait: float = 120.0) -> Iterator[None]:
        """Hold the corpus writers' lock (across every process sharing this database) for the block."""
        if self.dialect.name == "sqlite":
            with _file_lock(Path(self.target).with_name(Path(self.target).name + ".corpus-lock"), wait):
                yield
            return
        connection = self.dialect.connect(self.target)  # its own session: the lock is the session's
        try:
            deadline = time.monotonic() + wait
            while not connection.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK,)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise CorpusBusy("Another bot process is changing the corpus; try again in a minute.")
                time.sleep(0.1)
            yield
        finally:
            connection.close()  # ends the session, which releases the lock


@contextlib.contextmanager
def _file_lock(path: Path, wait: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CorpusBusy("Another bot process is changing the corpus; try again in a minute.") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock
