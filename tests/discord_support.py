"""Helpers to build the real bot on the tiny test corpus with the fake encoder."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config, load_config
from bot.core.answer import Answerer, LiveIndex
from bot.discord_app.assembly import create_bot
from bot.discord_app.client import RedLinesBot
from bot.index.store import build_index, load_index
from bot.serving.resources import Resources
from bot.storage.answers import Store

from .conftest import FakeEncoder, write_config, write_corpus


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
    return create_bot(config=config, load_resources=lambda: resources,
                       open_store=lambda: Store(config.database_path), shard_count=shard_count)


async def synced_guild(env, member_name: str):
    """Sync the bot's commands, as `redlines-bot sync-commands` would, and make a guild with a
    #general channel and one member: (guild, channel, member)."""
    await env.bot.tree.sync()
    guild = env.create_guild()
    channel = guild.create_text_channel("general")
    member = guild.add_member(env.create_user(member_name))
    return guild, channel, member
