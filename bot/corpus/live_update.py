"""Making corpus changes live without a restart.

One ``LiveUpdater`` per running bot. Every change — a moderator's FAQ edit, a reload after files were
edited by hand, an undo — runs the same way, one at a time: validate the corpus, write the changed file
atomically, build a new index generation (only changed texts are encoded, thanks to the embedding
cache), publish it on disk atomically, load it, and swap it into the ``LiveIndex`` in one assignment.
Questions in flight finish on the generation they started with. If anything fails before the swap,
the live index keeps serving, the file is put back, and the error says why.

A file change and its audit record are one unit: the record is written ahead as an intent, completed once
the change is live, dropped if the change is put back (see ``bot.storage.audit``), so a process killed
half-way never leaves a change that the audit log, and so ``/faq undo``, doesn't know about.

Each change holds the writer lock shared with every other process on the project (``index build`` and
``index rollback`` on the command line, another bot), so two writers never interleave: an entry added by
one is never dropped by the other's write, and no build's generation is pruned before it is published.
A reload that finds nothing new (the corpus is what the live index was built from) changes nothing.

With several bot processes sharing a database (``coordination``), a change also takes the corpus writers'
lock of that database (a PostgreSQL advisory lock reaches processes on other hosts) and publishes the new
generation; the other processes swap it in (``adopt``) as soon as they hear of it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config
from bot.core.answer import LiveIndex
from bot.core.quality_models import carry_over
from bot.corpus.editing import FaqDraft, PlannedWrite, plan_add, plan_edit, plan_remove
from bot.corpus.reader import Corpus, load_corpus
from bot.errors import IndexUnavailableError, ShuttingDown, StorageError, UserFacingError
from bot.index.encoder import Encoder
from bot.index.store import (
    SearchIndex,
    build_index,
    check_status,
    current_generation,
    fingerprint_of,
    load_corpus_snapshot,
    previous_generation,
    publish,
    read_generation,
    return_freed_memory,
)
from bot.storage.atomic import read_text_exact, write_text_atomic
from bot.storage.audit import AuditLog, AuditRecord
from bot.storage.coordination import Coordination
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
    path: str | None = None         # the corpus file changed, relative to the corpus folder
    audit_id: int | None = None     # its audit record (None when the audit log is unavailable)
    changed: bool = True            # False: a reload found nothing new, and the live index stayed as it was


class ChangeNotLiveError(UserFacingError):
    """A change reached its file but could not be made live, and the file could not be put back either."""


class LiveUpdater:
    # How long a change waits for another process's (an `index build`, say) to finish; Discord allows 15 min.
    WRITER_WAIT_SECONDS = 120.0

    def __init__(self, config: Config, encoder: Encoder, live: LiveIndex, audit: AuditLog | None,
                 coordination: Coordination | None = None) -> None:
        self.config = config
        self.encoder = encoder
        self.live = live
        self.audit = audit
        self.coordination = coordination
        self._lock = threading.Lock()
        # The publication record of the generation live here: an older one heard of late is never swapped in.
        self._published_id = 0
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
            # The database's lock first (every process on every host), then the index folder's (this host).
            shared = self.coordination.writer_lock(self.WRITER_WAIT_SECONDS) if self.coordination else nullcontext()
            with shared, exclusive_writes(self.config.index_dir, f"redlines-bot: {what}",
                                          timeout=self.WRITER_WAIT_SECONDS, waiting=log.info,
                                          cancelled=self._stopping.is_set):
                if self.coordination is not None and self.audit is not None:
                    self.audit.recover(writers_locked=True)  # intents of a writer that died, on any host
                self.busy = what
                try:
                    yield
                finally:
                    self.busy = None

    # ---- moderator edits ---------------------------------------------------------------------------------

    def add(self, draft: FaqDraft, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("add", draft.id, lambda corpus: plan_add(corpus, draft), actor, actor_id)

    def edit(self, entry_id: str, draft: FaqDraft, actor: str, actor_id: int | None = None) -> UpdateResult:
        """Change an entry; refused if it changed since the draft was filled from it (``draft.based_on``)."""
        return self._change("edit", entry_id, lambda corpus: plan_edit(corpus, entry_id, draft), actor, actor_id)

    def remove(self, entry_id: str, actor: str, actor_id: int | None = None) -> UpdateResult:
        return self._change("remove", entry_id, lambda corpus: plan_remove(corpus, entry_id), actor, actor_id)

    def _change(self, action: str, entry_id: str, plan: Callable[[Corpus], PlannedWrite], actor: str,
                actor_id: int | None) -> UpdateResult:
        with self._exclusive(f"{action} {entry_id} by {actor}"):
            started = time.perf_counter()
            corpus = load_corpus(self.config.corpus_dir)
            planned = plan(corpus)
            record = AuditRecord(action=action, entry_id=entry_id, path=planned.relative, actor=actor,
                                 actor_id=actor_id, entry_before=planned.entry_before, entry_after=planned.entry_after,
                                 file_before=planned.before, file_after=planned.after,
                                 generation_before=self.live.current.generation)
            return self._apply(planned.path, record, lambda: self._rebuild(action, entry_id, started))

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
            result = None
            if self.live.current.manifest["corpus_hash"] == fingerprint:
                result = self._adopt_current(fingerprint, started)
                if result is not None and not result.changed:
                    log.info("reload: nothing changed; generation %s keeps serving", generation_before)
                    return result
            else:
                # Built already (by `index build`, or by another process sharing the index folder that got the
                # same reload): swap in that index rather than build the same one again.
                result = self._adopt_built(fingerprint, started)
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
        return self._adopt_built(fingerprint, started)

    def _adopt_built(self, fingerprint: str, started: float) -> UpdateResult | None:
        """Serve the current generation on disk when it is fresh and built from ``fingerprint``; else None."""
        status = check_status(self.config, self.encoder.fingerprint)
        if not status.fresh or status.generation is None or status.manifest is None \
                or status.manifest["corpus_hash"] != fingerprint:
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
            if last.path is None:  # add, edit and remove always record their file
                raise UserFacingError(f"The last moderator change ({last.action} {last.entry_id}) names no file to restore.")
            started = time.perf_counter()
            path = self.config.corpus_dir / last.path
            try:
                current_text = read_text_exact(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise UserFacingError(f"Cannot read {last.path} to undo the last change ({exc}).") from exc
            if current_text != last.file_after:
                raise UserFacingError(
                    f"{last.path} has changed since the last moderator change ({last.action} {last.entry_id}), so "
                    "undo would lose those edits. Edit the file instead, or roll the index back with "
                    "`redlines-bot index rollback`.")
            record = AuditRecord(action="undo", entry_id=last.entry_id, path=last.path, actor=actor, actor_id=actor_id,
                                 entry_before=last.entry_after, entry_after=last.entry_before,
                                 file_before=last.file_after, file_after=last.file_before,
                                 generation_before=self.live.current.generation, undoes=last.id)
            return self._apply(path, record, lambda: self._back_to_before(last, started))

    def _back_to_before(self, last: AuditRecord, started: float) -> UpdateResult:
        previous = last.generation_before
        restored = self._kept_generation(previous)
        if previous is not None and restored is not None:
            # The generation from before the change is kept and readable: make it current again, no rebuild.
            publish(self.config.index_dir, previous)
            self.live.swap(restored)
            self._announce(previous, "undo")
            return_freed_memory()
            return UpdateResult("undo", last.entry_id, previous, 0, time.perf_counter() - started,
                                len(self.live.current.passages))
        return self._rebuild("undo", last.entry_id, started)

    def _kept_generation(self, generation: str | None) -> SearchIndex | None:
        """The previous generation, loaded, if it is ``generation`` and can be read; else None."""
        index_dir = self.config.index_dir
        if not generation or generation != previous_generation(index_dir) or not (index_dir / generation).is_dir():
            return None
        try:
            return read_generation(index_dir / generation, self.encoder)
        except IndexUnavailableError as exc:
            log.warning("cannot restore generation %s (%s); rebuilding instead", generation, exc.detail)
            return None

    # ---- shared ----------------------------------------------------------------------------------------------

    def _apply(self, path: Path, record: AuditRecord, make_live: Callable[[], UpdateResult]) -> UpdateResult:
        """Write ``record.file_after`` to ``path`` and make it live, with its audit record, as one unit: on any
        failure the file is put back and the intent dropped; if even that fails, the record is kept (the change
        stayed) and the moderator is told so."""
        intent = self._begin(record, path)
        try:
            self._write(path, record.file_after)
        except BaseException:
            self._settle(intent, record, None, happened=False)
            raise
        try:
            result = make_live()
        except BaseException as exc:
            try:
                self._write(path, record.file_before)
            except StorageError as restore_error:
                self._settle(intent, record, None, happened=True)
                raise ChangeNotLiveError(
                    f"The change to {record.path} was saved in the file, but it could not be made live "
                    f"({_reason(exc)}), and putting the file back failed too ({_reason(restore_error)}). The change "
                    "is in the corpus file and in the audit log: once the problem is fixed, `/reload` makes it "
                    "live, or `/faq undo` reverts it.") from exc
            self._settle(intent, record, None, happened=False)
            raise
        self._settle(intent, record, result.generation, happened=True)
        return dataclasses.replace(result, path=record.path, audit_id=intent)

    def _begin(self, record: AuditRecord, path: Path) -> int | None:
        if self.audit is None:
            return None
        try:
            return self.audit.begin(record, path)
        except Exception as exc:  # noqa: BLE001 - any database failure refuses the change, loudly
            log.exception("could not write the audit intent for %s %s", record.action, record.entry_id)
            raise UserFacingError("Not saved: the audit log could not be written, and every change needs its "
                                  "record. Nothing was changed; try again in a moment.") from exc

    def _settle(self, intent: int | None, record: AuditRecord, generation: str | None, *, happened: bool) -> None:
        if self.audit is None or intent is None:
            return
        try:
            if happened:
                self.audit.complete(intent, record, generation)
            else:
                self.audit.abandon(intent)
        except Exception:  # noqa: BLE001 - settled again from the file when the audit log is next opened
            log.exception("could not settle audit intent %s (%s %s); it is settled on the next start", intent,
                          record.action, record.entry_id)

    @staticmethod
    def _write(path: Path, text: str | None) -> None:
        try:
            if text is None:
                path.unlink(missing_ok=True)
            else:
                write_text_atomic(path, text)
        except OSError as exc:
            raise StorageError(path, exc) from exc

    def _rebuild(self, action: str, entry_id: str | None, started: float, corpus: Corpus | None = None) -> UpdateResult:
        corpus = corpus or load_corpus_snapshot(self.config.corpus_dir)  # raises CorpusError with file and line
        # build_index reads the generation back before publishing it: an unreadable one never becomes current.
        # The quality models of the generation being replaced are kept: refitting them is `index build`'s job.
        built = build_index(self.config, self.encoder, corpus, show_progress=False, previous=self.live.current,
                            derive=carry_over(self.live.current))
        index = built.index or read_generation(self.config.index_dir / built.generation, self.encoder)
        self.live.swap(index)
        self._announce(built.generation, action)
        return_freed_memory()  # the rebuild's garbage and the generation replaced (unless a question still holds it)
        seconds = time.perf_counter() - started
        log.info("%s: generation %s live in %.2f s (%d texts encoded)", action, built.generation, seconds, built.encoded)
        return UpdateResult(action, entry_id, built.generation, built.encoded, seconds, len(index.passages))

    # ---- several processes ----------------------------------------------------------------------------------

    def _announce(self, generation: str, action: str) -> None:
        """Tell every process sharing the database that ``generation`` is live (they swap it in)."""
        if self.coordination is None:
            return
        try:
            self._published_id = self.coordination.publish(generation, action)
        except Exception:  # noqa: BLE001 - live here; the others catch up with the next published change
            log.exception("generation %s is live in this process but could not be published to %s", generation,
                          self.coordination.where)

    def adopt(self, generation: str, published_id: int) -> bool:
        """Swap in a generation another process published (record ``published_id``); False when it is already live
        here or older than what is."""
        with self._lock:
            if published_id <= self._published_id:
                return False
            if self.live.current.generation != generation:
                self.live.swap(read_generation(self.config.index_dir / generation, self.encoder))
                return_freed_memory()
            self._published_id = published_id
            return True

    def _audit(self, record: AuditRecord) -> int | None:
        if self.audit is None:
            return None
        try:
            return self.audit.record(record)
        except Exception:  # noqa: BLE001 - the reload is live; a failed audit write is logged loudly
            log.exception("could not write the audit record for %s %s", record.action, record.entry_id)
            return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UserFacingError):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = exc.strerror or str(exc)
    else:
        text = type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
