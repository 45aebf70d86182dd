"""Making corpus changes live without a restart.

One ``LiveUpdater`` per running bot. Every change — a moderator's FAQ edit, a reload after files were
edited by hand, an undo — runs the same way, one at a time: validate the corpus, write the changed file
atomically, build a new index generation (only changed texts are encoded, thanks to the embedding
cache), publish it on disk atomically, load it, and swap it into the ``LiveIndex`` in one assignment.
Questions in flight finish on the generation they started with. If anything fails before the swap,
the live index keeps serving and the error says why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from bot.config import Config
from bot.core.answer import LiveIndex
from bot.corpus.editing import FaqDraft, PlannedWrite, plan_add, plan_edit, plan_remove
from bot.corpus.reader import Corpus, load_corpus
from bot.errors import StorageError, UserFacingError
from bot.index.encoder import Encoder
from bot.index.store import build_index, previous_generation, publish, read_generation, return_freed_memory
from bot.storage.atomic import write_text_atomic
from bot.storage.audit import AuditLog, AuditRecord

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


class LiveUpdater:
    def __init__(self, config: Config, encoder: Encoder, live: LiveIndex, audit: AuditLog | None) -> None:
        self.config = config
        self.encoder = encoder
        self.live = live
        self.audit = audit
        self._lock = threading.Lock()

    # ---- moderator edits ---------------------------------------------------------------------------------

    def add(self, draft: FaqDraft, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("add", draft.id, lambda corpus: plan_add(corpus, draft), actor, actor_id)

    def edit(self, entry_id: str, draft: FaqDraft, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("edit", entry_id, lambda corpus: plan_edit(corpus, entry_id, draft), actor, actor_id)

    def remove(self, entry_id: str, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("remove", entry_id, lambda corpus: plan_remove(corpus, entry_id), actor, actor_id)

    def _change(self, action: str, entry_id: str, plan, actor: str, actor_id: int | None) -> UpdateResult:
        with self._lock:
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
        """Pick up corpus files changed on disk; a broken file is refused and the live index kept."""
        with self._lock:
            started = time.perf_counter()
            generation_before = self.live.current.generation
            result = self._rebuild("reload", None, started)
            self._audit(AuditRecord(action="reload", entry_id=None, path=None, actor=actor, actor_id=actor_id,
                                    generation_before=generation_before, generation_after=result.generation))
            return result

    # ---- undo ----------------------------------------------------------------------------------------------

    def undo(self, actor: str, actor_id: int | None = None) -> UpdateResult:
        """Undo the last moderator change: restore its file and the index generation from before it."""
        if self.audit is None:
            raise UserFacingError("Undo needs the audit log, and the database is unavailable.")
        with self._lock:
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
            if previous and previous == previous_generation(index_dir) and (index_dir / previous).is_dir():
                # The generation from before the change is kept: make it current again, no rebuild.
                publish(index_dir, previous)
                self.live.swap(read_generation(index_dir / previous, self.encoder))
                return_freed_memory()
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

    def _rebuild(self, action: str, entry_id: str | None, started: float) -> UpdateResult:
        corpus: Corpus = load_corpus(self.config.corpus_dir)  # raises CorpusError with file and line
        built = build_index(self.config, self.encoder, corpus, show_progress=False, previous=self.live.current)
        index = read_generation(self.config.index_dir / built.generation, self.encoder)
        self.live.swap(index)
        return_freed_memory()  # the rebuild's garbage and the generation replaced (unless a question still holds it)
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
