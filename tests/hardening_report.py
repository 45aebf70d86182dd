"""Collects what the hardening tests tried and what happened, and writes docs/hardening.md from it.

The table is produced by the tests (``record`` calls), so it cannot claim a case that was not run.
"""

from __future__ import annotations

from pathlib import Path

ROWS: list[tuple[str, str, str]] = []
# The test modules that record rows; the table is written only when all of them ran.
RECORDING_MODULES = frozenset({"test_hardening.py", "test_discord_hardening.py", "test_discord_moderation.py",
                               "test_discord_e2e.py", "test_load_burst.py", "test_storage.py", "test_scale_out.py"})
REPORT = Path(__file__).resolve().parent.parent / "docs" / "hardening.md"

HEADER = """# Hardening: cases tried and what happened

This file is written by the test suite (`tests/test_hardening.py` and friends, through
`tests/hardening_report.py`) each time those tests run; do not edit it by hand. Each row is a case a test
tried and the outcome it asserted.

| area | case | what happened |
| --- | --- | --- |
"""


def record(area: str, case: str, outcome: str) -> None:
    ROWS.append((area, case, outcome))


def _cell(text: str) -> str:
    return text.replace("|", "\\\\|").replace("\\n", " ")


def write() -> None:
    if not ROWS:
        return
    REPORT.parent.mkdir(exist_ok=True)
    lines = [f"| {_cell(a)} | {_cell(c)} | {_cell(o)} |" for a, c, o in sorted(set(ROWS), key=lambda r: (r[0], r[1]))]
    REPORT.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
