"""How long the bot's Discord answers are: the median number of characters a member reads, over the question bank.

Every labelled question of ``tests/eval/bank/*.yaml`` is answered by the real bot (real model, the index in
``index/``) and rendered as the Discord message it would post; the visible characters are counted: the message
text, and the embed's title, description, fields and footer. Declines are counted apart. Run it on two checkouts
to compare renders (``PYTHONPATH=OTHER_CHECKOUT python tools/answer_length.py``).

    python tools/answer_length.py [--bank tests/eval/bank]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.errors import QuestionError  # noqa: E402
from bot.serving.resources import build_resources  # noqa: E402


def visible_characters(content: str | None, embeds: list) -> int:
    total = len(content or "")
    for embed in embeds:
        total += len(embed.title or "") + len(embed.description or "") + len(embed.footer.text or "")
        total += sum(len(field.name) + len(field.value) for field in embed.fields)
    return total


def rendered_length(answer, question: str) -> int:
    """Characters of the message the bot posts for ``answer``, with whichever renderer this checkout has."""
    from bot.discord_app import render

    if hasattr(render, "answer_message"):
        message = render.answer_message(answer)
        return visible_characters(message.content, message.embeds)
    return visible_characters(None, [render.render(answer, question=question)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bank", type=Path, default=ROOT / "tests" / "eval" / "bank")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    args = parser.parse_args()
    resources = build_resources(load_config(args.config))
    questions = [item["q"] for path in sorted(args.bank.glob("*.yaml"))
                 for item in yaml.safe_load(path.read_text(encoding="utf-8")) or ()]
    answered, declined = [], []
    for question in questions:
        try:
            answer = resources.answerer.answer(question)
        except QuestionError:
            continue
        (answered if answer.answered else declined).append(rendered_length(answer, question))
    print(f"{len(questions)} questions: {len(answered)} answered, {len(declined)} declined")
    for name, lengths in (("answered", answered), ("declined", declined)):
        if lengths:
            quartiles = statistics.quantiles(lengths, n=4)
            print(f"{name}: median {statistics.median(lengths):.0f} characters "
                  f"(quartiles {quartiles[0]:.0f} / {quartiles[2]:.0f}, max {max(lengths)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
