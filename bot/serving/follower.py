"""Following the index generation that bot processes sharing a database publish.

A moderator's change on any process is built once (in the shared index folder) and published; every process
runs ``follow`` to swap the published generation in, as ``/reload`` does: at once on a PostgreSQL
notification, otherwise at the next poll (``database.poll_seconds``), so within a few seconds everywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.corpus.live_update import LiveUpdater
from bot.storage.coordination import Coordination

log = logging.getLogger(__name__)


async def follow(coordination: Coordination, updater: LiveUpdater, poll_seconds: float) -> None:
    """Until cancelled: after each notification or poll, swap in the latest published generation if it is newer."""
    seen = failed = None
    changes = coordination.changes(poll_seconds)
    while True:
        try:
            latest = await asyncio.to_thread(coordination.latest)
            if latest is not None and latest.id != seen:
                seen = latest.id
                if await asyncio.to_thread(updater.adopt, latest.generation, latest.id):
                    log.info("generation %s (%s on %s, pid %d) live here %.2f s after it was published",
                             latest.generation, latest.action, latest.host, latest.pid, time.time() - latest.published_at)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a missing or broken generation: keep serving, retry at the next change
            if failed != seen:  # say it once per published generation, not at every poll
                log.exception("could not swap in the published index generation; the live one keeps serving")
            failed, seen = seen, None
        await anext(changes)
