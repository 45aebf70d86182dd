"""Fair-use limits: the per-member cooldown and the concurrency cap."""

from __future__ import annotations

import asyncio

import pytest

from bot.serving.limits import Busy, ConcurrencyCap, Cooldown, RateLimited


def test_cooldown_allows_rate_per_window_per_member():
    now = [0.0]
    cooldown = Cooldown(3, 30, clock=lambda: now[0])
    for _ in range(3):
        cooldown.check(1)
    with pytest.raises(RateLimited) as info:
        cooldown.check(1)
    assert info.value.retry_after == pytest.approx(30) and "30 s" in str(info.value)
    cooldown.check(2)  # others are not affected
    now[0] = 30.0
    cooldown.check(1)  # the window slid on


@pytest.mark.asyncio
async def test_cap_lets_a_burst_wait_its_turn_then_says_busy():
    cap = ConcurrencyCap(2, retry_after=5, max_wait=0.2)
    finished = []

    async def job(n):
        async with cap.slot():
            await asyncio.sleep(0.05)
            finished.append(n)

    await asyncio.gather(*(job(n) for n in range(6)))
    assert sorted(finished) == list(range(6)) and cap.in_flight == 0

    async def hog():
        async with cap.slot():
            await asyncio.sleep(1)

    hogs = [asyncio.create_task(hog()) for _ in range(2)]
    await asyncio.sleep(0.01)
    with pytest.raises(Busy, match="try again in 5 s"):
        async with cap.slot():
            pass
    for task in hogs:
        task.cancel()
