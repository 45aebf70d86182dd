"""The moderators' audit log: who changed which FAQ entry, when, with the text before and after."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.storage.sqlite_db import Database

FORGOTTEN_ACTOR = "(a moderator; name removed after the retention period)"


@dataclass(frozen=True)
class AuditRecord:
    action: str
    entry_id: str | None
    path: str | None
    actor: str
    actor_id: int | None = None
    entry_before: str | None = None
    entry_after: str | None = None
    file_before: str | None = None
    file_after: str | None = None
    generation_before: str | None = None
    generation_after: str | None = None
    undoes: int | None = None
    id: int | None = None
    at: float | None = None


class AuditLog(Database):
    """The audit table in the bot's SQLite file (defined in ``bot.storage.schema``)."""

    def record(self, record: AuditRecord) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO audit (at, actor, actor_id, action, entry_id, path, entry_before, entry_after,"
                " file_before, file_after, generation_before, generation_after, undoes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), record.actor, record.actor_id, record.action, record.entry_id, record.path,
                 record.entry_before, record.entry_after, record.file_before, record.file_after,
                 record.generation_before, record.generation_after, record.undoes))
            return int(cursor.lastrowid)

    def _rows(self, where: str = "", params: tuple = (), limit: int = 50) -> list[AuditRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, actor, actor_id, action, entry_id, path, entry_before, entry_after, file_before,"
                f" file_after, generation_before, generation_after, undoes FROM audit {where} ORDER BY id DESC LIMIT ?",
                (*params, limit)).fetchall()
        return [AuditRecord(id=r[0], at=r[1], actor=r[2], actor_id=r[3], action=r[4], entry_id=r[5], path=r[6],
                            entry_before=r[7], entry_after=r[8], file_before=r[9], file_after=r[10],
                            generation_before=r[11], generation_after=r[12], undoes=r[13]) for r in rows]

    def get(self, record_id: int) -> AuditRecord | None:
        found = self._rows("WHERE id = ?", (record_id,), limit=1)
        return found[0] if found else None

    def undo_of(self, record_id: int) -> AuditRecord | None:
        """The undo that undid record ``record_id``, if any."""
        found = self._rows("WHERE action = 'undo' AND undoes = ?", (record_id,), limit=1)
        return found[0] if found else None

    def forget_actors_before(self, cutoff: float) -> int:
        """Keep what changed, forget who changed it: records older than ``cutoff`` lose the moderator's name and id."""
        with self._lock:
            return self._db.execute("UPDATE audit SET actor = ?, actor_id = NULL WHERE at < ? AND actor_id IS NOT NULL",
                                    (FORGOTTEN_ACTOR, cutoff)).rowcount

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        return self._rows(limit=limit)

    def last_change(self) -> AuditRecord | None:
        """The latest add/edit/remove not already undone."""
        undone = {r.undoes for r in self._rows("WHERE action = 'undo'", limit=1000)}
        for record in self._rows("WHERE action IN ('add', 'edit', 'remove')", limit=1000):
            if record.id not in undone:
                return record
        return None
