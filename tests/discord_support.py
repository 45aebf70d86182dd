"""Helpers to build the real bot on the tiny test corpus with the fake encoder."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import discord
import yarl

from bot.config import Config, load_config
from bot.core.answer import Answerer, LiveIndex
from bot.discord_app.assembly import create_bot
from bot.discord_app.client import RedLinesBot
from bot.index.store import build_index, load_index
from bot.serving.resources import Resources
from bot.storage.answers import Store

from .conftest import FakeEncoder, write_config, write_corpus
from .fake_discord import FakeDiscord

# Test bots don't wait discord.py's default 2 s for more guilds after READY: the fake Discord sends its one
# GUILD_CREATE right after READY.
TEST_BOT_OPTIONS = {"guild_ready_timeout": 0.2}


def make_project(root: Path, discord_extra: str = "") -> Config:
    write_corpus(root / "corpus")
    extra = "discord:\n  database: data/bot.sqlite3\n" + discord_extra
    write_config(root, extra=extra)
    return load_config(root / "config.yaml")


def fake_resources(config: Config) -> Resources:
    encoder = FakeEncoder()
    build_index(config, encoder)
    live = LiveIndex(load_index(config, encoder))
    return Resources(config, encoder, live, Answerer(config.retrieval, encoder, live))


def make_bot(config: Config, resources: Resources | None = None, *, shard_count: int | None = 1) -> RedLinesBot:
    """The real bot on the fake encoder. One shard by default (simcord needs the count up front); with
    ``shard_count=None`` it asks Discord's GET /gateway/bot how many, as a production bot does."""
    resources = resources or fake_resources(config)
    # The fake Discord sends every guild at once: no need to wait discord.py's default 2 s for more.
    return create_bot(config=config, load_resources=lambda: resources,
                      open_store=lambda: Store(config.database_path), shard_count=shard_count,
                      **TEST_BOT_OPTIONS)


async def synced_guild(env, member_name: str):
    """Sync the bot's commands, as `redlines-bot sync-commands` would, and make a guild with a
    #general channel and one member: (guild, channel, member)."""
    await env.bot.tree.sync()
    guild = env.create_guild()
    channel = guild.create_text_channel("general")
    member = guild.add_member(env.create_user(member_name))
    return guild, channel, member


async def start_bot(bot: RedLinesBot) -> asyncio.Task:
    """Connect the bot (to the fake Discord the test points discord.py at) and wait until it is ready."""
    task = asyncio.create_task(bot.start("fake-token-not-a-secret"))
    await asyncio.sleep(0)  # let start() set the client up: since Python 3.12, wait_for doesn't yield first
    await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
    return task


async def stop_bot(bot: RedLinesBot, task: asyncio.Task) -> None:
    await bot.close()
    await asyncio.wait_for(task, timeout=10)


@contextmanager
def fake_in_thread(server: FakeDiscord) -> Iterator[FakeDiscord]:
    """The fake Discord on its own event loop, so ``run_discord`` can own the main thread (signals need it)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def loopback_discord(monkeypatch) -> AsyncIterator[FakeDiscord]:
    """The fake Discord on 127.0.0.1 with discord.py pointed at it; afterwards, every interaction must have been
    acknowledged within Discord's 3 s and followed up within 15 min (the fake records late ones)."""
    server = FakeDiscord()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    await server.stop()
    assert not server.late, [(r.method, r.path) for r in server.late]
