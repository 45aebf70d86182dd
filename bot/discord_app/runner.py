"""Entry points that start the Discord client: ``run`` and ``sync-commands``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import discord

from bot.config import Config
from bot.discord_app.assembly import create_bot
from bot.discord_app.client import stored_answer_channels
from bot.errors import UserFacingError
from bot.serving.health import beat
from bot.serving.metrics import start_metrics
from bot.serving.resources import Resources, build_resources
from bot.storage.locks import BOT_LOCK, BotLock

log = logging.getLogger(__name__)


def pid_file(config: Config) -> Path:
    """The running bot's lock file; it holds the bot's pid while the bot runs (see ``bot.storage.locks``)."""
    return config.data_dir / BOT_LOCK


def metrics_port(config: Config) -> int | None:
    """metrics.port, plus the first shard id when this process runs a group of shards, so processes on one host
    (redlines-bot@0-1, redlines-bot@2-3...) each get a port of their own: 9100, 9102..."""
    port = config.metrics.port
    if port is None or port == 0 or not config.discord.shard_ids:
        return port
    return port + min(config.discord.shard_ids)


async def _serve(config: Config, token: str, load_resources: Callable[[], Resources] | None = None,
                 **bot_options: Any) -> None:
    load = load_resources or partial(build_resources, config)
    # One bot per data folder (or per group of shards), for the whole life of the process: a second one would
    # answer every question twice and its edits would race this one's.
    with BotLock(config.data_dir, config.discord.shard_ids), \
            contextlib.closing(start_metrics(config.metrics.host, metrics_port(config))) as metrics:
        # Answer channels set with /setup need the message-content intent, chosen before connecting.
        read_message_content = await asyncio.to_thread(stored_answer_channels, config)
        bot_options.setdefault("follow_index", True)  # swap in what other processes sharing the database publish
        async with create_bot(config=config, load_resources=load, read_message_content=read_message_content,
                              metrics=metrics, **bot_options) as bot:
            loop = asyncio.get_running_loop()
            grace = config.discord.shutdown_grace_seconds
            handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
            for signum in (signal.SIGTERM, signal.SIGINT):
                # The first signal finishes what is in flight (up to the grace period); a second one stops at once.
                loop.add_signal_handler(signum, bot.request_shutdown, grace)
            # SIGHUP (or `redlines-bot reload`) picks up corpus files edited on disk; a burst of them is one reload.
            loop.add_signal_handler(signal.SIGHUP, bot.request_reload, "SIGHUP")
            # The heartbeat `redlines-bot status` reads; the file goes when the process stops cleanly.
            heartbeat = asyncio.create_task(beat(config.heartbeat_dir, bot.heartbeat, config.health.heartbeat_seconds))
            try:
                await bot.start(token)
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                for signum in handled:
                    loop.remove_signal_handler(signum)


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
    except discord.ConnectionClosed as exc:
        raise UserFacingError(_closed_message(exc.code, exc.reason)) from None
    except discord.HTTPException as exc:  # 5xx after discord.py's retries, or another refusal at login
        raise UserFacingError(f"Discord answered {exc.status} ({exc.text or 'no reason given'}) while connecting; "
                              "it may be having an outage: try again later") from None
    return 0


def _closed_message(code: int | None, reason: str | None) -> str:
    if code == 4004:
        return ("Discord closed the connection: authentication failed (4004). The token was probably reset or "
                "revoked in the developer portal: put the new one in DISCORD_TOKEN and start again")
    return f"Discord closed the connection (code {code}{': ' + reason if reason else ''}); start again"


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
