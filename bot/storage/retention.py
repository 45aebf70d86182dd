"""Keeping members' questions and ids only as long as ``data.retention_days`` says.

Past that age, a question asked (its text, the asker's id, the channel and message), the record of which
message answered it, and feedback given, are deleted; moderators' audit records keep what changed but forget who changed it. The bot
runs this on start and then every few hours; ``redlines-bot purge`` runs it on request.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from bot.storage.answers import Store
from bot.storage.audit import AuditLog
from bot.storage.database import Target, exists

DAY = 86400.0


@dataclass(frozen=True)
class PurgeReport:
    cutoff: float
    answers: int
    feedback: int
    audit_actors: int
    exchanges: int = 0

    def summary(self) -> str:
        when = dt.datetime.fromtimestamp(self.cutoff, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (f"purged what was older than {when}: {self.answers} question(s), {self.feedback} feedback record(s), "
                f"{self.exchanges} conversation record(s); "
                f"{self.audit_actors} audit record(s) no longer name their moderator")


def cutoff_for(retention_days: int, now: float | None = None) -> float:
    return (time.time() if now is None else now) - retention_days * DAY


def purge_expired(store: Store | None, audit: AuditLog | None, retention_days: int, now: float | None = None) -> PurgeReport:
    """Delete what is older than the retention period from the open store and audit log."""
    cutoff = cutoff_for(retention_days, now)
    purged = store.purge_before(cutoff) if store is not None else None
    forgotten = audit.forget_actors_before(cutoff) if audit is not None else 0
    return PurgeReport(cutoff, purged.answers if purged else 0, purged.feedback if purged else 0, forgotten,
                       purged.exchanges if purged else 0)


def purge_database(database: Target, retention_days: int, now: float | None = None) -> PurgeReport:
    """The same, opening the database (nothing to do when a SQLite file does not exist yet)."""
    if not exists(database):
        return PurgeReport(cutoff_for(retention_days, now), 0, 0, 0)
    store, audit = Store(database), AuditLog(database)
    try:
        return purge_expired(store, audit, retention_days, now)
    finally:
        store.close()
        audit.close()
