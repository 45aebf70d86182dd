"""The moderators' audit log: who changed which FAQ entry, when, with the text before and after.

A change and its record are one unit. The record is written first, as an *intent* (state ``pending``,
with the file's path and its text before and after), then the file is written, then the intent is marked
``done``. A process killed in between leaves a pending intent; the next time the audit log is opened it is
settled from what is on disk: the file holds the new text → the change happened and the record is kept
(``done``); it holds the old text → the change never happened and the intent is dropped; anything else
(edited by hand since) → kept as ``interrupted``, shown in history but never undone automatically.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bot.storage.atomic import read_text_exact
from bot.storage.database import Database, Target
from bot.storage.locks import process_alive

log = logging.getLogger(__name__)

COLUMNS = ("id, at, actor, actor_id, action, entry_id, path, entry_before, entry_after, file_before, file_after,"
           " generation_before, generation_after, undoes, state")
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
    state: str = "done"


class AuditLog(Database):
    """The audit table in the bot's database (defined in ``bot.storage.schema``). Opening it settles changes a
    killed process left pending."""

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        # With SQLite every writer is on this host, so a pending intent whose process is gone is settled now.
        # With PostgreSQL the writer may be on another host: intents are settled under the corpus writers' lock
        # instead (LiveUpdater), when no change can be in flight anywhere.
        self.settled = self.recover() if self.dialect.name == "sqlite" else []

    def record(self, record: AuditRecord) -> int:
        """A finished change (or a reload) in one insert."""
        return self._insert(record, "done", None)

    def _insert(self, record: AuditRecord, state: str, file_path: Path | None) -> int:
        return self.insert(
            "INSERT INTO audit (at, actor, actor_id, action, entry_id, path, entry_before, entry_after,"
            " file_before, file_after, generation_before, generation_after, undoes, state, file_path, pid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (time.time(), record.actor, record.actor_id, record.action, record.entry_id, record.path,
             record.entry_before, record.entry_after, record.file_before, record.file_after,
             record.generation_before, record.generation_after, record.undoes, state,
             str(file_path) if file_path else None, os.getpid() if state == "pending" else None))

    # ---- write-ahead intents -----------------------------------------------------------------------------

    def begin(self, record: AuditRecord, file_path: Path) -> int:
        """Record a change about to be written to ``file_path``; returns the intent's id."""
        return self._insert(record, "pending", file_path)

    def complete(self, intent: int, record: AuditRecord, generation_after: str | None) -> None:
        """The change is on disk: the intent becomes the record. Re-inserted if someone settled it meanwhile."""
        updated = self.rowcount("UPDATE audit SET state = 'done', generation_after = ?, pid = NULL WHERE id = ?",
                                (generation_after, intent))
        if not updated:
            self._insert(dataclasses.replace(record, generation_after=generation_after), "done", None)

    def abandon(self, intent: int) -> None:
        """The change was not made (refused, failed and put back): forget its intent."""
        self.execute("DELETE FROM audit WHERE id = ? AND state = 'pending'", (intent,))

    def recover(self, *, writers_locked: bool = False) -> list[str]:
        """Settle the intents of processes that died mid-change; returns what was done, for the log.

        ``writers_locked``: the caller holds the corpus writers' lock, so no other process is mid-change and every
        pending intent of another process is a dead one's, whatever its pid looks like from here."""
        rows = self.execute("SELECT id, action, entry_id, file_path, file_before, file_after, pid FROM audit"
                            " WHERE state = 'pending' ORDER BY id")
        settled = []
        for intent, action, entry_id, file_path, file_before, file_after, pid in rows:
            if pid == os.getpid() or (pid and not writers_locked and process_alive(pid)):
                continue  # still in flight in a live process
            try:
                on_disk = read_text_exact(Path(file_path)) if file_path else None
            except (OSError, UnicodeDecodeError):
                on_disk = "\0unreadable"
            if on_disk == file_after:
                outcome, sql = "completed", "UPDATE audit SET state = 'done', pid = NULL WHERE id = ?"
            elif on_disk == file_before:
                outcome, sql = "rolled back", "DELETE FROM audit WHERE id = ?"
            else:
                outcome, sql = "left as interrupted", "UPDATE audit SET state = 'interrupted', pid = NULL WHERE id = ?"
            self.execute(sql, (intent,))
            settled.append(f"{action} {entry_id or ''} (audit {intent}): {outcome}")
            log.warning("a change interrupted by a crash was %s: %s %s (audit record %s)", outcome, action,
                        entry_id, intent)
        return settled

    # ---- reading -------------------------------------------------------------------------------------------

    def _rows(self, where: str = "", params: tuple = (), limit: int = 50) -> list[AuditRecord]:
        rows = self.execute(f"SELECT {COLUMNS} FROM audit {where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [AuditRecord(id=r[0], at=r[1], actor=r[2], actor_id=r[3], action=r[4], entry_id=r[5], path=r[6],
                            entry_before=r[7], entry_after=r[8], file_before=r[9], file_after=r[10],
                            generation_before=r[11], generation_after=r[12], undoes=r[13], state=r[14])
                for r in rows]

    def get(self, record_id: int) -> AuditRecord | None:
        found = self._rows("WHERE id = ?", (record_id,), limit=1)
        return found[0] if found else None

    def undo_of(self, record_id: int) -> AuditRecord | None:
        """The undo that undid record ``record_id``, if any."""
        found = self._rows("WHERE action = 'undo' AND undoes = ?", (record_id,), limit=1)
        return found[0] if found else None

    def forget_actors_before(self, cutoff: float) -> int:
        """Keep what changed, forget who changed it: records older than ``cutoff`` lose the moderator's name and id."""
        return self.rowcount("UPDATE audit SET actor = ?, actor_id = NULL WHERE at < ? AND actor_id IS NOT NULL",
                             (FORGOTTEN_ACTOR, cutoff))

    def recent(self, limit: int = 20) -> list[AuditRecord]:
        """The latest records, pending intents left out."""
        return self._rows("WHERE state != 'pending'", limit=limit)

    def pending(self) -> list[AuditRecord]:
        return self._rows("WHERE state = 'pending'")

    def last_change(self) -> AuditRecord | None:
        """The latest finished add/edit/remove not already undone."""
        undone = {r.undoes for r in self._rows("WHERE action = 'undo' AND state = 'done'", limit=1000)}
        for record in self._rows("WHERE action IN ('add', 'edit', 'remove') AND state = 'done'", limit=1000):
            if record.id not in undone:
                return record
        return None


