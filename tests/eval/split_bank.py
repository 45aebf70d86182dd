"""Give every bank item without a ``split:`` one, stratified by category, with the fixed seed.

Run once when items are added (``python tests/eval/split_bank.py``); items that have a split keep it, so the
test split stays frozen. See bot/evaluation/bank.py for how items are dealt.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.evaluation.bank import write_splits  # noqa: E402

if __name__ == "__main__":
    count = write_splits(Path(__file__).resolve().parent / "bank")
    print(f"assigned a split to {count} item(s)")
