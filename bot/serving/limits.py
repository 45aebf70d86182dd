"""Fair use: a per-member cooldown and a cap on questions answered at once.

Discord-free so that every way of asking (slash command, mention, answer channel, button) shares one
limiter, and so it can be tested without Discord. Time comes from a clock function for tests.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.errors import UserFacingError


class RateLimited(UserFacingError):
    """This member asked too often; ``retry_after`` seconds until the next question is accepted."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        seconds = max(1, math.ceil(retry_after))
        super().__init__(f"You're asking quickly: please wait {seconds} s before your next question.")


class Busy(UserFacingError):
    """Too many questions are being answered at once."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"I'm busy answering other questions; please try again in {retry_after} s.")


class Cooldown:
    """At most ``rate`` questions per ``per`` seconds per member (a sliding window)."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per = per
        self.clock = clock
        self._asked: dict[int, deque[float]] = {}

    def check(self, user_id: int) -> None:
        """Count a question from ``user_id`` or raise ``RateLimited``."""
        now = self.clock()
        times = self._asked.setdefault(user_id, deque())
        while times and now - times[0] >= self.per:
            times.popleft()
        if len(times) >= self.rate:
            raise RateLimited(self.per - (now - times[0]))
        times.append(now)
        if len(self._asked) > 10_000:  # forget idle members so memory stays bounded
            self._asked = {u: t for u, t in self._asked.items() if t and now - t[-1] < self.per}

    def refund(self, user_id: int) -> None:
        """Give back the question ``check`` just counted (it was refused afterwards, e.g. busy)."""
        times = self._asked.get(user_id)
        if times:
            times.pop()


class NoticeLimit:
    """At most one notice per member per ``per`` seconds, so that refusing a flood never becomes a flood of
    refusals (each notice would be another message in the channel's rate-limit bucket)."""

    def __init__(self, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per = per
        self.clock = clock
        self._last: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
        """True (and counted) when ``user_id`` has had no notice in the window."""
        now = self.clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.per:
            return False
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget members whose window has passed, so memory stays bounded
            self._last = {u: t for u, t in self._last.items() if now - t < self.per}
        return True


class ConcurrencyCap:
    """At most ``limit`` questions answered at once; a question waits up to ``max_wait`` seconds for a
    turn (a burst is absorbed, since an answer takes milliseconds), then gets ``Busy``."""

    def __init__(self, limit: int, retry_after: int, max_wait: float = 0.0) -> None:
        self.limit = limit
        self.retry_after = retry_after
        self.max_wait = max_wait
        self._semaphore = asyncio.Semaphore(limit)

    @property
    def in_flight(self) -> int:
        return self.limit - self._semaphore._value  # noqa: SLF001 - asyncio keeps no public count

    async def acquire(self) -> None:
        """Take a slot, waiting up to ``max_wait`` seconds for one; ``Busy`` when none came."""
        if self._semaphore.locked() and self.max_wait <= 0:
            raise Busy(self.retry_after)
        try:
            await asyncio.wait_for(self._semaphore.acquire(), timeout=self.max_wait or None)
        except TimeoutError:
            raise Busy(self.retry_after) from None

    def release(self) -> None:
        self._semaphore.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()
