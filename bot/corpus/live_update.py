"""Making corpus changes live without a restart.

One ``LiveUpdater`` per running bot. Every change — a moderator's FAQ edit, a reload after files were
edited by hand, an undo — runs the same way, one at a time: validate the corpus, write the changed file
atomically, build a new index generation (only changed texts are encoded, thanks to the embedding
cache), publish it on disk atomically, load it, and swap it into the ``LiveIndex`` in one assignment.
Questions in flight finish on the generation they started with. If anything fails before the swap,
the live index keeps serving and the error says why.

Each change holds the writer lock shared with every other process on the project (``index build`` and
``index rollback`` on the command line, another bot), so two writers never interleave: an entry added by
one is never dropped by the other's write, and no build's generation is pruned before it is published.
A reload that finds nothing new (the corpus is what the live index was built from) changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.config import Config
from bot.core.answer import LiveIndex
from bot.corpus.editing import FaqDraft, PlannedWrite, plan_add, plan_edit, plan_remove
from bot.corpus.reader import load_corpus
from bot.errors import IndexUnavailableError, ShuttingDown, StorageError, UserFacingError
from bot.index.encoder import Encoder
from bot.index.store import (
    build_index,
    check_status,
    current_generation,
    fingerprint_of,
    load_corpus_snapshot,
    previous_generation,
    publish,
    read_generation,
)
from bot.storage.atomic import write_text_atomic
from bot.storage.audit import AuditLog, AuditRecord
from bot.storage.locks import exclusive_writes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateResult:
    """What a change did and how long it took to be answerable."""

    action: str
    entry_id: str | None
    generation: str
    encoded: int
    seconds: float
    passages: int
    changed: bool = True  # False: a reload found nothing new, and the live index stayed as it was


class LiveUpdater:
    # How long a change waits for another process's (an `index build`, say) to finish; Discord allows 15 min.
    WRITER_WAIT_SECONDS = 120.0

    def __init__(self, config: Config, encoder: Encoder, live: LiveIndex, audit: AuditLog | None) -> None:
        self.config = config
        self.encoder = encoder
        self.live = live
        self.audit = audit
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.busy: str | None = None  # the change being made now, for the shutdown report

    def stop(self) -> None:
        """Refuse changes from now on (a change already running finishes)."""
        self._stopping.set()

    def idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a running change to finish; True when none is running."""
        if not self._lock.acquire(timeout=max(timeout, 0)):
            return False
        self._lock.release()
        return True

    @contextmanager
    def _exclusive(self, what: str) -> Iterator[None]:
        """One change at a time: in this process (threads) and across processes (the writer lock)."""
        if self._stopping.is_set():
            raise ShuttingDown("The bot is restarting; nothing was changed. Try again in a minute.")
        with self._lock:
            if self._stopping.is_set():
                raise ShuttingDown("The bot is restarting; nothing was changed. Try again in a minute.")
            with exclusive_writes(self.config.index_dir, f"redlines-bot: {what}", timeout=self.WRITER_WAIT_SECONDS,
                                  waiting=log.info, cancelled=self._stopping.is_set):
                self.busy = what
                try:
                    yield
                finally:
                    self.busy = None

    # ---- moderator edits ---------------------------------------------------------------------------------

    def add(self, draft: FaqDraft, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("add", draft.id, lambda corpus: plan_add(corpus, draft), actor, actor_id)

    def edit(self, entry_id: str, draft: FaqDraft, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("edit", entry_id, lambda corpus: plan_edit(corpus, entry_id, draft), actor, actor_id)

    def remove(self, entry_id: str, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("remove", entry_id, lambda corpus: plan_remove(corpus, entry_id), actor, actor_id)

    def _change(self, action: str, entry_id: str, plan, actor: str, actor_id: int | None) -> UpdateResult:
        with self._exclusive(f"{action} {entry_id} by {actor}"):
            started = time.perf_counter()
            corpus = load_corpus(self.config.corpus_dir)
            planned: PlannedWrite = plan(corpus)
            generation_before = self.live.current.generation
            try:
                write_text_atomic(planned.path, planned.after)
            except OSError as exc:
                raise StorageError(planned.path, exc) from exc
            try:
                result = self._rebuild(action, entry_id, started)
            except Exception:
                # The file changed but the index could not follow: put the file back as it was.
                if planned.before is None:
                    planned.path.unlink(missing_ok=True)
                else:
                    write_text_atomic(planned.path, planned.before)
                raise
            self._audit(AuditRecord(action=action, entry_id=entry_id, path=planned.relative, actor=actor,
                                    actor_id=actor_id, entry_before=planned.entry_before,
                                    entry_after=planned.entry_after, file_before=planned.before,
                                    file_after=planned.after, generation_before=generation_before,
                                    generation_after=result.generation))
            return result

    # ---- files edited by hand ------------------------------------------------------------------------------

    def reload(self, actor: str, actor_id: int | None = None) -> UpdateResult:
        """Pick up corpus files changed on disk; a broken file is refused and the live index kept.

        When the corpus is what the live index was built from, nothing is rebuilt: the generation current on
        disk is loaded if it is newer and fresh (built by `index build`, say), else nothing changes at all."""
        with self._exclusive(f"reload by {actor}"):
            started = time.perf_counter()
            generation_before = self.live.current.generation
            corpus = load_corpus_snapshot(self.config.corpus_dir)  # raises CorpusError with file and line
            fingerprint = fingerprint_of(corpus.content_hash)
            if self.live.current.manifest["corpus_hash"] == fingerprint:
                result = self._adopt_current(fingerprint, started)
                if result is not None and not result.changed:
                    log.info("reload: nothing changed; generation %s keeps serving", generation_before)
                    return result
            else:
                result = None
            if result is None:
                result = self._rebuild("reload", None, started, corpus)
            self._audit(AuditRecord(action="reload", entry_id=None, path=None, actor=actor, actor_id=actor_id,
                                    generation_before=generation_before, generation_after=result.generation))
            return result

    def _adopt_current(self, fingerprint: str, started: float) -> UpdateResult | None:
        """The live index already matches the corpus: serve the current generation on disk if it is fresh too.
        None when it is not (then the caller rebuilds)."""
        live = self.live.current
        current = current_generation(self.config.index_dir)
        if current == live.generation:
            return UpdateResult("reload", None, live.generation, 0, time.perf_counter() - started,
                                len(live.passages), changed=False)
        status = check_status(self.config, self.encoder.fingerprint)
        if not status.fresh or status.manifest is None or status.manifest["corpus_hash"] != fingerprint:
            return None
        try:
            index = read_generation(self.config.index_dir / status.generation, self.encoder)
        except IndexUnavailableError:
            return None
        self.live.swap(index)
        log.info("reload: generation %s, current on disk, now serving", index.generation)
        return UpdateResult("reload", None, index.generation, 0, time.perf_counter() - started, len(index.passages))

    # ---- undo ----------------------------------------------------------------------------------------------

    def undo(self, actor: str, actor_id: int | None = None) -> UpdateResult:
        """Undo the last moderator change: restore its file and the index generation from before it."""
        if self.audit is None:
            raise UserFacingError("Undo needs the audit log, and the database is unavailable.")
        with self._exclusive(f"undo by {actor}"):
            last = self.audit.last_change()
            if last is None:
                raise UserFacingError("There is no moderator change to undo.")
            started = time.perf_counter()
            path = self.config.corpus_dir / last.path
            current_text = path.read_text(encoding="utf-8") if path.exists() else None
            if current_text != last.file_after:
                raise UserFacingError(
                    f"{last.path} has changed since the last moderator change ({last.action} {last.entry_id}), so "
                    "undo would lose those edits. Edit the file instead, or roll the index back with "
                    "`redlines-bot index rollback`.")
            if last.file_before is None:
                path.unlink(missing_ok=True)
            else:
                write_text_atomic(path, last.file_before)
            previous = last.generation_before
            index_dir = self.config.index_dir
            restored = self._kept_generation(previous)
            if restored is not None:
                # The generation from before the change is kept and readable: make it current again, no rebuild.
                publish(index_dir, previous)
                self.live.swap(restored)
                result = UpdateResult("undo", last.entry_id, previous, 0, time.perf_counter() - started,
                                      len(self.live.current.passages))
            else:
                result = self._rebuild("undo", last.entry_id, started)
            self._audit(AuditRecord(action="undo", entry_id=last.entry_id, path=last.path, actor=actor,
                                    actor_id=actor_id, entry_before=last.entry_after, entry_after=last.entry_before,
                                    file_before=last.file_after, file_after=last.file_before,
                                    generation_before=last.generation_after, generation_after=result.generation,
                                    undoes=last.id))
            return result

    # ---- shared ----------------------------------------------------------------------------------------------

    def _kept_generation(self, generation: str | None):
        """The previous generation, loaded, if it is ``generation`` and can be read; else None."""
        index_dir = self.config.index_dir
        if not generation or generation != previous_generation(index_dir) or not (index_dir / generation).is_dir():
            return None
        try:
            return read_generation(index_dir / generation, self.encoder)
        except IndexUnavailableError as exc:
            log.warning("cannot restore generation %s (%s); rebuilding instead", generation, exc.detail)
            return None

    def _rebuild(self, action: str, entry_id: str | None, started: float, corpus=None) -> UpdateResult:
        corpus = corpus or load_corpus_snapshot(self.config.corpus_dir)  # raises CorpusError with file and line
        # build_index reads the generation back before publishing it: an unreadable one never becomes current.
        built = build_index(self.config, self.encoder, corpus, show_progress=False)
        index = built.index or read_generation(self.config.index_dir / built.generation, self.encoder)
        self.live.swap(index)
        seconds = time.perf_counter() - started
        log.info("%s: generation %s live in %.2f s (%d texts encoded)", action, built.generation, seconds, built.encoded)
        return UpdateResult(action, entry_id, built.generation, built.encoded, seconds, len(index.passages))

    def _audit(self, record: AuditRecord) -> None:
        if self.audit is None:
            return
        try:
            self.audit.record(record)
        except Exception:  # noqa: BLE001 - the change is live; a failed audit write is logged loudly
            log.exception("could not write the audit record for %s %s", record.action, record.entry_id)
