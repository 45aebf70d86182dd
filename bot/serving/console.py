"""The local console: the same answers as the Discord bot, typed at a terminal."""

from __future__ import annotations

from typing import TextIO

from bot.errors import QuestionError
from bot.serving.render_text import render_text
from bot.serving.resources import Resources

PROMPT = "ask> "


def run_console(resources: Resources, stdin: TextIO, stdout: TextIO) -> int:
    """Read questions until end of input; print each answer with its citations."""
    index = resources.live.current
    stdout.write(f"redlines-bot console · index {index.version} · {len(index.passages)} passages\n")
    stdout.write("Ask about the Global Call for AI Red Lines. Empty line or Ctrl-D to quit.\n")
    while True:
        stdout.write(PROMPT)
        stdout.flush()
        line = stdin.readline()
        if not line or not line.strip():
            stdout.write("\n")
            return 0
        try:
            answer = resources.answerer.answer(line)
        except QuestionError as exc:
            stdout.write(f"{exc}\n\n")
            continue
        stdout.write(render_text(answer) + "\n\n")
