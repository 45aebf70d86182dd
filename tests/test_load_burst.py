"""500 questions from 50 members through the real bot and the loopback fake Discord (fake encoder): every
question the cooldown admits gets exactly one reply, refusals never become messages (one reaction per member per
window, then silence: spam can't amplify), and the event loop never stalls."""

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
    assert summary["duplicated"] == 0, summary
    # 3 questions per member per 30 s are answered (the same question again in the channel: a link to the answer
    # it just got); of the other 7 of each member's 10, the first gets a ⏳ reaction and the rest nothing.
    assert summary["answers"] + summary["links"] == 150 and summary["answers"] >= 7, summary
    assert summary["refusal_reactions"] == 50 and summary["silent"] == 300, summary
    assert summary["busy_notices"] == 0 and summary["other_replies"] == 0, summary
    assert summary["worst_loop_lag_ms"] < 1000, summary
    record("abuse", "a burst of 500 questions from 50 members through the gateway",
           "150 answered, once each (an answer, or a link to the same answer just given: 3 per member per 30 s); "
           "the 350 refused got one ⏳ reaction per member and no message; the event loop never lagged 1 s")
