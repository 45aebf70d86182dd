"""A moderator's change from start to finish, for any front end: made live, audited, committed to git.

``LiveUpdater`` validates, writes, rebuilds and audits. Around it this adds what a moderator needs
to trust the change: the question members will now ask to see it (for a preview), a commit in the
corpus's git work tree with the moderator as author, the declined questions it answers marked as dealt
with, and an undo that refuses to undo anything but the change it was offered for. Every method blocks
(files, encoding, git): the Discord layer runs them one at a time in a worker thread.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from bot.config import Config
from bot.core.answer import Answer, Answerer
from bot.corpus.editing import FaqDraft
from bot.corpus.git_record import Author, Commit, GitError, commit_change
from bot.corpus.live_update import LiveUpdater, UpdateResult
from bot.errors import UserFacingError
from bot.storage.answers import Store
from bot.storage.audit import AuditLog, AuditRecord

log = logging.getLogger(__name__)

VERBS = {"add": "Add", "edit": "Edit", "remove": "Remove", "undo": "Undo"}


@dataclass(frozen=True)
class Change:
    """What a moderator's change did, in terms a confirmation can show."""

    result: UpdateResult
    record: AuditRecord | None
    question: str | None          # the entry's question (before a removal, after anything else)
    commit: Commit | None = None
    git_problem: str | None = None
    undone: AuditRecord | None = None  # for an undo: the change it undid

    @property
    def action(self) -> str:
        return self.result.action

    @property
    def entry_id(self) -> str | None:
        return self.result.entry_id


def question_of(entry_text: str | None) -> str | None:
    """The question of one entry's YAML text (as kept in the audit log), or None."""
    if not entry_text:
        return None
    try:
        parsed = yaml.safe_load(entry_text)
    except yaml.YAMLError:
        return None
    item = parsed[0] if isinstance(parsed, list) and parsed else parsed
    question = item.get("question") if isinstance(item, dict) else None
    return " ".join(question.split()) if isinstance(question, str) else None


class Moderation:
    def __init__(self, config: Config, updater: LiveUpdater, answerer: Answerer, audit: AuditLog | None,
                 store: Store | None = None) -> None:
        self.config = config
        self.updater = updater
        self.answerer = answerer
        self.audit = audit
        self.store = store

    # ---- changes ---------------------------------------------------------------------------------------

    def add(self, draft: FaqDraft, author: Author, actor: str, *, closes: Sequence[int] = ()) -> Change:
        """Add an entry; ``closes`` are the declined questions (answer ids) it was written for."""
        change = self._finish(self.updater.add(draft, actor, author.discord_id), author)
        if closes and self.store is not None:
            try:
                self.store.close_gap(closes)
            except Exception:  # noqa: BLE001 - the entry is live; a stale gap listing is a small loss
                log.exception("could not mark %d answered question(s) as dealt with", len(closes))
        return change

    def edit(self, entry_id: str, draft: FaqDraft, author: Author, actor: str) -> Change:
        return self._finish(self.updater.edit(entry_id, draft, actor, author.discord_id), author)

    def remove(self, entry_id: str, author: Author, actor: str) -> Change:
        return self._finish(self.updater.remove(entry_id, actor, author.discord_id), author)

    def undo(self, author: Author, actor: str, *, expected: int | None = None) -> Change:
        """Undo the latest change; with ``expected``, only if that audit record is still the latest change."""
        if expected is not None:
            self._check_still_latest(expected)
        return self._finish(self.updater.undo(actor, author.discord_id), author)

    def _check_still_latest(self, expected: int) -> None:
        if self.audit is None:
            raise UserFacingError("Undo needs the audit log, and the database is unavailable.")
        last = self.audit.last_change()
        if last is not None and last.id == expected:
            return
        if self.audit.undo_of(expected) is not None:
            raise UserFacingError("That change was already undone.")
        later = f" ({last.action} of `{last.entry_id}` by {last.actor})" if last is not None else ""
        raise UserFacingError(f"A later change{later} came after this one, so undoing it here could lose that change. "
                              "Use /faq undo to undo the latest change, or correct the entry with /faq edit.")

    def _finish(self, result: UpdateResult, author: Author) -> Change:
        record = self._record(result.audit_id)
        undone = self._record(record.undoes) if record is not None and record.undoes else None
        if result.action == "remove" or (result.action == "undo" and record is not None and record.entry_after is None):
            question = question_of(record.entry_before if record else None)
        else:
            question = question_of(record.entry_after if record else None)
        commit, problem = self._commit(result, record, undone, question, author)
        return Change(result, record, question, commit, problem, undone)

    def _record(self, audit_id: int | None) -> AuditRecord | None:
        if audit_id is None or self.audit is None:
            return None
        try:
            return self.audit.get(audit_id)
        except Exception:  # noqa: BLE001 - the confirmation can do without it
            log.exception("could not read audit record %s", audit_id)
            return None

    # ---- git ---------------------------------------------------------------------------------------------

    def _commit(self, result: UpdateResult, record: AuditRecord | None, undone: AuditRecord | None,
                question: str | None, author: Author) -> tuple[Commit | None, str | None]:
        if not self.config.data.commit_corpus_changes or result.path is None:
            return None, None
        message = commit_message(result, record, undone, question, author)
        try:
            return commit_change(self.config.corpus_dir, [result.path], author, message), None
        except GitError as exc:
            log.error("%s %s is live but was not committed to git: %s", result.action, result.entry_id, exc)
            return None, str(exc)

    # ---- previews ----------------------------------------------------------------------------------------

    def preview(self, change: Change) -> Answer | None:
        """What a member asking the entry's own question gets now (None when there is no question to ask)."""
        if not change.question:
            return None
        return self.answerer.answer(change.question)


def commit_message(result: UpdateResult, record: AuditRecord | None, undone: AuditRecord | None,
                   question: str | None, author: Author) -> str:
    """A subject saying what changed, the question, who did it from Discord, and the audit record's id."""
    if result.action == "undo":
        what = f"{undone.action} of" if undone is not None else "the last change to"
        subject = f"FAQ: undo {what} {result.entry_id}"
    else:
        subject = f"FAQ: {result.action} {result.entry_id}"
    lines = [subject, ""]
    if question:
        lines.append(f"Question: {question}")
    who = f"{author.name} (Discord id {author.discord_id})" if author.discord_id else author.name
    lines.append(f"Made from Discord by {who}; live in index generation {result.generation}.")
    if record is not None and record.id is not None:
        lines += ["", f"Audit-Id: {record.id}"]
    return "\n".join(lines) + "\n"
