"""How long the bot's Discord answers are: the median number of characters a member reads, over the question bank.

Every labelled question of ``tests/eval/bank/*.yaml`` is answered by the real bot (real model, the index in
``index/``) and rendered as the Discord message it would post; the visible characters are counted: the message
text, and the embed's title, description, fields and footer, both as shown (a masked link shows its name, not
its address; Markdown marks are not shown) and as sent. Declines are counted apart. Run it on two checkouts
to compare renders (``PYTHONPATH=OTHER_CHECKOUT python tools/answer_length.py``).

    python tools/answer_length.py [--bank tests/eval/bank]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

import discord
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.errors import QuestionError  # noqa: E402
from bot.serving.resources import build_resources  # noqa: E402

_LINK_TARGET = re.compile(r"\]\(<?[^)>]*>?\)")
_MARKUP = re.compile(r"\*\*|\\(?=[^\s])|^> ?|^-# ", re.MULTILINE)


def shown(text: str | None) -> str:
    """What Discord displays of ``text``: masked links show their name only, Markdown marks disappear."""
    text = _LINK_TARGET.sub("]", text or "").replace("[", "").replace("]", "")
    return _MARKUP.sub("", text)


def characters(content: str | None, embeds: list, *, visible: bool) -> int:
    count = (lambda text: len(shown(text))) if visible else (lambda text: len(text or ""))
    total = count(content)
    for embed in embeds:
        total += count(embed.title) + count(embed.description) + count(embed.footer.text)
        total += sum(count(field.name) + count(field.value) for field in embed.fields)
    return total


def rendered(answer, question: str) -> tuple[str | None, list]:
    """The text and embeds the bot posts for ``answer``, with whichever renderer this checkout has."""
    from bot.discord_app import render

    result = render.render(answer, question=question) if not hasattr(render, "answer_message") else \
        render.render(answer)
    if isinstance(result, discord.Embed):
        return None, [result]
    return result.content, list(result.embeds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bank", type=Path, default=ROOT / "tests" / "eval" / "bank")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    args = parser.parse_args()
    resources = build_resources(load_config(args.config))
    questions = [item["q"] for path in sorted(args.bank.glob("*.yaml"))
                 for item in yaml.safe_load(path.read_text(encoding="utf-8")) or ()]
    lengths: dict[tuple[str, bool], list[int]] = {}
    for question in questions:
        try:
            answer = resources.answerer.answer(question)
        except QuestionError:
            continue
        content, embeds = rendered(answer, question)
        for visible in (True, False):
            key = ("answered" if answer.answered else "declined", visible)
            lengths.setdefault(key, []).append(characters(content, embeds, visible=visible))
    counts = {kind: len(lengths.get((kind, True), [])) for kind in ("answered", "declined")}
    print(f"{len(questions)} questions: {counts['answered']} answered, {counts['declined']} declined")
    for (kind, visible), found in sorted(lengths.items()):
        quartiles = statistics.quantiles(found, n=4)
        what = "characters shown" if visible else "characters sent (with link targets and Markdown)"
        print(f"{kind}: median {statistics.median(found):.0f} {what} "
              f"(quartiles {quartiles[0]:.0f} / {quartiles[2]:.0f}, max {max(found)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
