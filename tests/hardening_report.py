"""The hardening table: what the tests tried, what happened, and which test checks it.

Tests call ``record(area, case, outcome)`` after asserting the outcome; each row keeps the pytest node id of
the test that recorded it. Running the tests never writes a file: ``docs/hardening.md`` is written only on
request, by ``make hardening`` (``python -m tests.hardening_report``), which runs the unit suite and writes
the table when every test passed, so it cannot claim a case that was not run, or that failed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPORT = REPO / "docs" / "hardening.md"
ROWS: list[tuple[str, str, str, str]] = []

HEADER = """# Hardening: cases tried and what happened

Written by `make hardening` (`python -m tests.hardening_report`) from what the tests record after asserting
it; do not edit it by hand. Each row is a case a test tried, the outcome it asserted, and that test's pytest
node id (run one with `pytest "NODE ID"`). Rows that name a defect (H1, M6, L15 ...) are the issue's
reliability findings, each reproduced on the old code and held by that test.

| area | case | what happened | test |
| --- | --- | --- | --- |
"""


def record(area: str, case: str, outcome: str) -> None:
    """Note a case and its (asserted) outcome against the test that is running."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    ROWS.append((area, case, outcome, test))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    """A Markdown code span that holds ``text`` even when it contains backticks (a parametrised test's id)."""
    fence = "`"
    while fence in text:
        fence += "`"
    return f"{fence} {text} {fence}" if "`" in text else f"`{text}`"


def table(rows: list[tuple[str, str, str, str]]) -> str:
    unique = sorted(set(rows), key=lambda row: (row[0], row[1], row[3]))
    lines = [f"| {_cell(a)} | {_cell(c)} | {_cell(o)} | {code(_cell(t))} |" for a, c, o, t in unique]
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the unit suite; when it passes, write the table (to ``docs/hardening.md`` or the path given)."""
    import pytest

    import tests.hardening_report as recorded  # the module the tests import (this one runs as __main__)

    args = argv if argv is not None else sys.argv[1:]
    output = Path(args[0]) if args else REPORT
    os.chdir(REPO)
    # The check that the table on disk names existing tests is about the old table: it does not gate a new one.
    code = pytest.main(["-m", "not model", "-q", "-p", "no:cacheprovider", "tests", "--deselect",
                        "tests/test_reliability.py::test_every_row_of_the_hardening_table_names_a_test_that_exists"])
    if code != 0:
        print(f"tests failed (exit {code}): {output} not written", file=sys.stderr)
        return int(code)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(table(recorded.ROWS), encoding="utf-8")
    print(f"wrote {output}: {len(set(recorded.ROWS))} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
