"""Entry points that start the Discord client: ``run`` and ``sync-commands``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from functools import partial

import aiohttp
import discord

from bot.config import Config
from bot.discord_app.assembly import create_bot
from bot.discord_app.client import stored_answer_channels
from bot.errors import UserFacingError
from bot.serving.resources import Resources, build_resources

log = logging.getLogger(__name__)


def pid_file(config: Config):
    return config.data_dir / "bot.pid"


async def _serve(config: Config, token: str, load_resources: Callable[[], Resources] | None = None) -> None:
    load = load_resources or partial(build_resources, config)
    # Answer channels set with /setup need the message-content intent, chosen before connecting.
    read_message_content = await asyncio.to_thread(stored_answer_channels, config)
    async with create_bot(config=config, load_resources=load, read_message_content=read_message_content) as bot:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
        # SIGHUP (or `redlines-bot reload`) picks up corpus files edited on disk.
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(bot.reload_corpus("SIGHUP")))
        path = pid_file(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(os.getpid()))
        try:
            await bot.start(token)
        finally:
            path.unlink(missing_ok=True)


def run_discord(config: Config, token: str) -> int:
    """Connect to Discord and answer until stopped. The token is never logged."""
    try:
        asyncio.run(_serve(config, token))
    except aiohttp.ClientConnectionError as exc:
        raise UserFacingError(f"cannot reach Discord ({exc.__class__.__name__}); check the network and try again") from None
    except discord.LoginFailure:
        raise UserFacingError("Discord refused the token in DISCORD_TOKEN (check it in the developer portal)") from None
    except discord.PrivilegedIntentsRequired:
        raise UserFacingError("Discord refused the Message Content intent: enable it on the Bot page of the developer "
                              "portal, or set discord.message_content_intent: false (answer channels then only "
                              "see messages that mention the bot)") from None
    return 0


async def _sync(config: Config, token: str, guild_id: int | None) -> int:
    async with create_bot(config=config, load_resources=None) as bot:
        await bot.login(token)
        return await bot.sync_commands(guild_id)


def sync_commands(config: Config, token: str, guild_id: int | None) -> int:
    """Register slash commands once, on request, instead of on every connection."""
    try:
        count = asyncio.run(_sync(config, token, guild_id))
    except discord.LoginFailure:
        raise UserFacingError("Discord refused the token in DISCORD_TOKEN") from None
    where = f"guild {guild_id}" if guild_id else "all guilds (global commands can take up to an hour to appear)"
    print(f"synced {count} command(s) to {where}")
    return 0
