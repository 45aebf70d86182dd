"""A burst of questions through the real bot and the loopback fake Discord: nothing lost, nothing doubled,
and refusals never flood the channel.

Run as a benchmark with the real model (prints numbers):

    .venv/bin/python -m tests.load_burst            # 500 questions from 50 members
    .venv/bin/python -m tests.load_burst --fake     # the same with the fake encoder

``tests/test_load_burst.py`` runs it with the fake encoder and checks the invariants.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import discord
import yarl

from .fake_discord import BOT_ID, BOT_USER, CHANNEL_ID, FakeDiscord, user

QUESTIONS = ["What deadline does the letter set?", "Who organised the call?", "Which Nobel laureates signed?",
             "What examples of red lines have been suggested?", "Quand l'appel a-t-il été lancé ?",
             "Did the US government support the call?", "What's a good pizza recipe?"]


@dataclass
class BurstReport:
    questions: int
    users: int
    answers: int = 0
    links: int = 0               # a question asked again: a link to the answer it just got
    refusal_reactions: int = 0   # a refused question (cooldown, busy): a ⏳ on it, once per member per window
    silent: int = 0              # refused again within the window: nothing
    busy_notices: int = 0
    other_replies: int = 0
    duplicated: int = 0
    seconds: float = 0.0             # from the first question to the bot's last response
    reply_ms: list[float] = field(default_factory=list, repr=False)
    worst_loop_lag_ms: float = 0.0

    def summary(self) -> dict:
        ordered = sorted(self.reply_ms) or [0.0]
        p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98] if len(ordered) > 1 else ordered[0]
        return {"questions": self.questions, "users": self.users, "answers": self.answers, "links": self.links,
                "refusal_reactions": self.refusal_reactions, "silent": self.silent, "busy_notices": self.busy_notices,
                "other_replies": self.other_replies, "duplicated": self.duplicated,
                "seconds": round(self.seconds, 3),
                "answers_per_s": round((self.answers + self.links) / self.seconds, 1) if self.seconds else 0,
                "questions_per_s": round(self.questions / self.seconds, 1) if self.seconds else 0,
                "reply_p50_ms": round(statistics.median(ordered), 1), "reply_p99_ms": round(p99, 1),
                "worst_loop_lag_ms": round(self.worst_loop_lag_ms, 1)}


async def _watch_loop(stop: asyncio.Event, worst: list[float], period: float = 0.02) -> None:
    """The event loop's worst lag: how late a short sleep wakes up."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(period)
        worst[0] = max(worst[0], (loop.time() - before - period) * 1000)


def _decline_openings() -> tuple[str, ...]:
    from bot.serving.i18n import catalogue

    messages = catalogue().messages
    return tuple(text[:30] for language in ("en", "fr") for key, text in messages[language].items()
                 if key.startswith("decline.") and key not in ("decline.suggestions", "decline.moderator"))


DECLINE_OPENINGS = _decline_openings()


async def run_burst(make_bot, questions: int = 500, users: int = 50, timeout: float = 300.0) -> BurstReport:
    """Start the bot against a fresh fake Discord, fire the burst, collect every reply."""
    fake = FakeDiscord()
    await fake.start()
    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    bot = make_bot()
    task = asyncio.create_task(bot.start("fake-token-not-a-secret"))
    await asyncio.sleep(0)  # let start() set the client up: since Python 3.12, wait_for doesn't yield first
    report = BurstReport(questions, users)
    try:
        await asyncio.wait_for(bot.wait_until_ready(), timeout=120)
        stop, worst = asyncio.Event(), [0.0]
        watcher = asyncio.create_task(_watch_loop(stop, worst))
        sent_at: dict[str, float] = {}
        started = time.perf_counter()
        for n in range(questions):
            author = user(800000000000000000 + n % users, f"member{n % users}")
            question = QUESTIONS[n % len(QUESTIONS)]
            message = await fake.member_message(f"<@{BOT_ID}> {question}", author=author, mentions=[BOT_USER])
            sent_at[message["id"]] = time.perf_counter()

        def replies():
            return [r for r in fake.posts(f"/channels/{CHANNEL_ID}/messages")
                    if (r.body or {}).get("message_reference")]

        def responses() -> int:
            return len(replies()) + sum(1 for q in sent_at if fake.reactions_on({"id": q}))

        # Wait until the bot has been quiet for a second (refused questions may get no response at all).
        deadline = time.perf_counter() + timeout
        seen = -1
        while time.perf_counter() < deadline and (seen != responses() or seen <= 0):
            seen = responses()
            await asyncio.sleep(1.0)
        # From the first question to the bot's last response (a reply or a reaction), not the quiet second after.
        last = max((r.received_at for r in fake.requests if r.method in ("POST", "PUT") and r.received_at >= started
                    and ("/reactions/" in r.path or r.path == f"/channels/{CHANNEL_ID}/messages")), default=started)
        report.seconds = last - started
        stop.set()
        await watcher
        report.worst_loop_lag_ms = worst[0]
        per_question = collections.Counter()
        for reply in replies():
            body = reply.body
            question_id = str(body["message_reference"]["message_id"])
            per_question[question_id] += 1
            if per_question[question_id] == 1:
                report.reply_ms.append((reply.received_at - sent_at[question_id]) * 1000)
            content = body.get("content") or ""
            if body.get("embeds") or content.startswith(DECLINE_OPENINGS):  # answers are embeds, declines text
                report.answers += 1
            elif "asking quickly" in content or "posez vos questions vite" in content:  # French questions: French
                report.cooldown_notices += 1
            elif "discord.com/channels/" in content:
                report.links += 1
            elif "busy" in content:
                report.busy_notices += 1
            else:
                report.other_replies += 1
        for question_id in sent_at:
            reacted = fake.reactions_on({"id": question_id})
            if reacted and per_question[question_id] == 0:
                report.refusal_reactions += 1
            elif not reacted and per_question[question_id] == 0:
                report.silent += 1
        report.duplicated = sum(1 for q in sent_at if per_question[q] + len(fake.reactions_on({"id": q})) > 1)
    finally:
        await bot.close()
        await asyncio.wait_for(task, timeout=30)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
        await fake.stop()
    return report


def _real_bot_factory(root: Path):
    import shutil

    from bot.config import load_config
    from bot.discord_app.assembly import create_bot
    from bot.index.store import build_index
    from bot.serving.resources import build_resources

    from .conftest import REPO

    shutil.copytree(REPO / "corpus", root / "corpus")
    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    if (REPO / "index" / "onnx").is_dir():
        (root / "index").mkdir()
        (root / "index" / "onnx").symlink_to((REPO / "index" / "onnx").resolve())
    config = load_config(root / "config.yaml")
    from bot.index.encoders import load_encoder

    build_index(config, load_encoder(config), show_progress=False)
    return lambda: create_bot(config=config, load_resources=lambda: build_resources(config))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load_burst")
    parser.add_argument("--fake", action="store_true", help="use the fake encoder instead of the real model")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="redlines-burst-") as tmp:
        root = Path(tmp)
        if args.fake:
            from .discord_support import make_bot, make_project

            config = make_project(root)
            factory = lambda: make_bot(config)  # noqa: E731
        else:
            factory = _real_bot_factory(root)
        report = asyncio.run(run_burst(factory, args.questions, args.users))
    print(json.dumps(report.summary(), indent=2))
    return 0 if not report.duplicated else 1


if __name__ == "__main__":
    raise SystemExit(main())
