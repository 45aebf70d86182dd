"""The asking service: limits, answering off the event loop, and recording — shared by every chat front end.

It is async but knows nothing of Discord: the Discord cogs translate a message or an interaction into
``ask(...)`` and render what comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from bot.core.answer import Answer, Answerer, DeclineKind
from bot.errors import ShuttingDown
from bot.serving.health import Activity
from bot.serving.limits import Busy, ConcurrencyCap, Cooldown
from bot.serving.metrics import Metrics
from bot.storage.answers import Store, StoredAnswer

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Asked:
    """An answer and the id it was recorded under (``None`` when the store was unavailable)."""

    answer: Answer
    answer_id: int | None


class Admission:
    """A question that passed validation and the limits, holding one answering slot until answered."""

    def __init__(self, service: AnswerService, question: str, user_id: int) -> None:
        self.service = service
        self.question = question
        self.user_id = user_id

    async def answer(self, *, via: str, guild_id: int | None = None, channel_id: int | None = None,
                     offset: int = 0, limit: int | None = None, context: Sequence[str] = (),
                     message_id: int | None = None) -> Asked:
        """Encode and search in a worker thread, then record the answer (``message_id``: the member's message,
        so moderators can jump to it from /faq gaps)."""
        service = self.service
        answer = await asyncio.to_thread(service.answerer.answer, self.question, tuple(context),
                                         offset=offset, limit=limit)
        if offset == 0:  # "More sources" shows more of an answer already counted
            service.activity.record(answer.answered)
            service.metrics.answered(answer)
        answer_id = await service._record(answer, via, guild_id, channel_id, self.user_id, message_id)
        return Asked(answer, answer_id)


class AnswerService:
    def __init__(self, answerer: Answerer, store: Store | None, cooldown: Cooldown, cap: ConcurrencyCap,
                 metrics: Metrics | None = None, activity: Activity | None = None) -> None:
        self.answerer = answerer
        self.store = store
        self.cooldown = cooldown
        self.cap = cap
        self.stopping = False
        self.metrics = metrics or Metrics()
        self.activity = activity or Activity()

    def stop_admitting(self) -> None:
        """From now on, turn new questions away with a short notice; questions already admitted finish."""
        self.stopping = True

    @asynccontextmanager
    async def admitted(self, question: str, *, user_id: int, count_towards_cooldown: bool = True,
                       acknowledge: Callable[[], Awaitable[object]] | None = None) -> AsyncIterator[Admission]:
        """Check a question, then wait for an answering slot: raises QuestionError, RateLimited or Busy.

        The instant checks (a bad question, the member's cooldown) come first, so a front end can refuse
        privately and at once; then ``acknowledge`` is awaited, before any waiting: a chat platform that
        needs an answer within seconds (Discord: 3 s) gets it even when every slot is taken, and ``Busy``
        can only come after it. A bad question or a busy bot costs the member no cooldown.
        """
        if self.stopping:
            raise ShuttingDown("I'm restarting; please ask again in a minute.")
        self.answerer.validate(question)
        if count_towards_cooldown:
            self.cooldown.check(user_id)
        try:
            if acknowledge is not None:
                await acknowledge()
            queued = time.perf_counter()
            await self.cap.acquire()
            self.metrics.queue_wait(time.perf_counter() - queued)
        except Busy:
            if count_towards_cooldown:
                self.cooldown.refund(user_id)
            raise
        try:
            yield Admission(self, question, user_id)
        finally:
            self.cap.release()

    async def ask(self, question: str, *, user_id: int, via: str, guild_id: int | None = None,
                  channel_id: int | None = None, offset: int = 0, limit: int | None = None,
                  count_towards_cooldown: bool = True, context: Sequence[str] = (),
                  message_id: int | None = None) -> Asked:
        """Admit and answer in one step, for callers with nothing to do in between."""
        async with self.admitted(question, user_id=user_id, count_towards_cooldown=count_towards_cooldown) as admission:
            return await admission.answer(via=via, guild_id=guild_id, channel_id=channel_id, offset=offset, limit=limit,
                                          context=context, message_id=message_id)

    async def _with_store(self, what: str, call: Callable[[Store], T], fallback: T) -> T:
        """Run ``call(store)`` in a worker thread; a missing or broken database logs and gives ``fallback``,
        because it must never stop the bot answering."""
        store = self.store
        if store is None:
            return fallback
        try:
            return await asyncio.to_thread(call, store)
        except Exception:  # noqa: BLE001
            log.exception("could not %s in %s", what, store.where)
            return fallback

    async def _record(self, answer: Answer, via: str, guild_id: int | None, channel_id: int | None,
                      user_id: int, message_id: int | None = None) -> int | None:
        if answer.decline == DeclineKind.CHITCHAT:
            return None  # "thanks!" is neither an answer to review nor a gap in the FAQ
        return await self._with_store("record an answer", lambda store: store.record_answer(
            answer, via, guild_id=guild_id, channel_id=channel_id, user_id=user_id, message_id=message_id), None)

    async def stored(self, answer_id: int) -> StoredAnswer | None:
        return await self._with_store(f"read answer {answer_id}", lambda store: store.answer(answer_id), None)

    async def feedback(self, answer_id: int, user_id: int, helpful: bool) -> bool:
        """Record feedback; False when it could not be stored."""
        recorded = await self._with_store(f"record feedback on answer {answer_id}",
                                          lambda store: store.record_feedback(answer_id, user_id, helpful), None)
        if recorded is None:
            return False
        self.metrics.feedback(helpful, recorded.language, recorded.retriever)
        return True
