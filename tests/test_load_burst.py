"""500 questions from 50 members through the real bot and the loopback fake Discord (fake encoder):
every question gets exactly one reply — an answer or a cooldown notice — and the event loop never stalls."""

from __future__ import annotations

import pytest

from .discord_support import make_bot, make_project
from .hardening_report import record
from .load_burst import run_burst

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


async def test_burst_of_500_questions_from_50_members(tmp_path):
    config = make_project(tmp_path)
    report = await run_burst(lambda: make_bot(config), questions=500, users=50)
    summary = report.summary()
    assert summary["unanswered"] == 0 and summary["duplicated"] == 0, summary
    # 3 questions per member per 30 s are answered; the other 7 of each member's 10 get a cooldown notice.
    assert summary["answers"] == 150 and summary["cooldown_notices"] == 350, summary
    assert summary["busy_notices"] == 0 and summary["other_replies"] == 0, summary
    assert summary["worst_loop_lag_ms"] < 1000, summary
    record("abuse", "a burst of 500 questions from 50 members through the gateway",
           f"each got exactly one reply: {summary['answers']} answers, {summary['cooldown_notices']} cooldown notices; "
           "the event loop never lagged 1 s")
