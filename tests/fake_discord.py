"""A fake Discord served on 127.0.0.1: REST and gateway, enough for the real, unpatched discord.py client.

It speaks the wire protocol (JSON over HTTP with Content-Type exactly ``application/json``, and the
gateway's HELLO / IDENTIFY / READY / heartbeat / RESUME over a websocket), keeps what the bot sends,
and lets a test inject gateway events (a member's message, a slash command, a button press).

Sharding works as on Discord: ``GET /gateway/bot`` recommends ``shard_count`` shards, each connection
IDENTIFYs with ``[shard_id, shard_count]``, and a guild's events go only to the connection of shard
``(guild_id >> 22) % shard_count``. Several bot processes (one per group of shards) can share one fake.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
BOT_ID = 900000000000000001
GUILD_ID = 900000000000000100
CHANNEL_ID = 900000000000000200
ANSWER_CHANNEL_ID = 900000000000000201
USER_ID = 900000000000000300
# A second guild, on the other shard of two: (guild_id >> 22) % 2 is 1 for GUILD_ID and 0 for this one.
OTHER_GUILD_ID = GUILD_ID + (1 << 22)
OTHER_CHANNEL_ID = 900000000000000202
TIMESTAMP = "2026-11-30T00:00:00+00:00"

# The owner of every fake guild ("owner_id": "1"): Discord gives an owner every permission, Manage Server included.
OWNER = {"id": "1", "username": "owner", "discriminator": "0", "global_name": "owner", "avatar": None, "bot": False,
         "flags": 0}
BOT_USER = {"id": str(BOT_ID), "username": "redlines", "discriminator": "0", "global_name": None, "avatar": None,
            "bot": True, "flags": 0}


def user(user_id: int = USER_ID, name: str = "alice", bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None,
            "bot": bot, "flags": 0}


def shard_of(guild_id: int, shard_count: int) -> int:
    """Discord's routing of a guild to a shard."""
    return (guild_id >> 22) % shard_count


def text_channel(channel_id: int, name: str, guild_id: int = GUILD_ID) -> dict[str, Any]:
    return {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None, "rate_limit_per_user": 0,
            "last_message_id": None, "flags": 0}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    received_at: float = 0.0


@dataclass
class FakeDiscord:
    """Start with ``await fake.start()``; point discord.py at ``fake.api_base`` and ``fake.gateway_url``."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    unknown_routes: list[str] = field(default_factory=list)
    identifies: int = 0
    resumes: int = 0
    command_syncs: int = 0
    sequence: int = 0
    session_id: str = "fake-session-1"
    sent_events: list[dict[str, Any]] = field(default_factory=list)
    # Shards recommended by GET /gateway/bot, and the gateway heartbeat interval sent in HELLO.
    shard_count: int = 1
    heartbeat_interval_ms: int = 41250
    # guild id -> its text channels (id, name); the default guild has #general and #ask-the-letter.
    guilds: dict[int, list[tuple[int, str]]] = field(default_factory=lambda: {
        GUILD_ID: [(CHANNEL_ID, "general"), (ANSWER_CHANNEL_ID, "ask-the-letter")]})
    # (shard_id, shard_count) of every IDENTIFY received, in order.
    identified_shards: list[tuple[int, int]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(910000000000000000))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _socket_shards: dict[int, tuple[int, int]] = field(default_factory=dict)
    _session_shards: dict[str, tuple[int, int]] = field(default_factory=dict)
    _interaction_channels: dict[str, int] = field(default_factory=dict)
    _changed: asyncio.Event | None = None
    _runner: web.AppRunner | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._changed = asyncio.Event()
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def next_id(self) -> int:
        return next(self._ids)

    def _notify(self) -> None:
        assert self._changed is not None
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked whenever the bot calls the fake)."""
        assert self._changed is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = predicate()
            if found:
                return found
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met in {timeout} s; requests: "
                                   f"{[(r.method, r.path) for r in self.requests]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass

    def posts(self, path_end: str) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith(path_end)]

    # ---- REST ------------------------------------------------------------------------------------------

    @staticmethod
    def _json(payload: Any, status: int = 200) -> web.Response:
        # discord.py parses a body as JSON only when Content-Type is exactly application/json.
        return web.Response(status=status, body=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json" and raw:
                body = json.loads(raw)
            elif request.content_type.startswith("multipart/"):
                body = {"multipart": True}
        self.requests.append(Request(request.method, path, dict(request.query), body, time.perf_counter()))
        self._notify()
        response = self._route(request.method, path, body)
        if response is None:
            self.unknown_routes.append(f"{request.method} {path}")
            return self._json({"message": "404: Not Found", "code": 0}, status=404)
        return response

    def _route(self, method: str, path: str, body: Any) -> web.Response | None:
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/users/@me":
            return self._json(BOT_USER)
        if method == "GET" and path == "/gateway/bot":
            return self._json({"url": self.gateway_url, "shards": self.shard_count,
                               "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0,
                                                       "max_concurrency": 1}})
        if method == "GET" and path == "/oauth2/applications/@me":
            return self._json({"id": str(APP_ID), "name": "redlines", "description": "", "icon": None,
                               "bot_public": True, "bot_require_code_grant": False, "owner": user(1, "owner"),
                               "verify_key": "00", "flags": 0, "summary": "", "team": None})
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            self.command_syncs += 1
            return self._json([{"description": "", **command, "id": str(self.next_id()), "application_id": str(APP_ID), "version": "1"}
                               for command in body or []])
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            return self._json(self.message(int(parts[1]), body or {}))
        if method == "POST" and parts[0] == "channels" and parts[-1] == "threads":
            return self._json(self.thread(int(parts[1]), body or {}))
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return self._json(self.callback(int(parts[1]), body or {}))
        if parts[0] == "webhooks" and method in ("POST", "PATCH"):
            channel_id = self._interaction_channels.get(parts[2] if len(parts) > 2 else "", CHANNEL_ID)
            message = self.message(channel_id, body or {})
            message["webhook_id"] = str(APP_ID)
            return self._json(message)
        return None

    def message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(self.next_id()), "channel_id": str(channel_id), "guild_id": str(self.guild_of(channel_id)),
                "author": BOT_USER,
                "content": body.get("content") or "", "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
                "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": body.get("flags", 0),
                "components": body.get("components") or []}

    def thread(self, parent_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(self.next_id()), "type": 11, "guild_id": str(GUILD_ID), "parent_id": str(parent_id),
                "owner_id": str(BOT_ID), "name": body.get("name", "thread"), "last_message_id": None,
                "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                    "archive_timestamp": TIMESTAMP, "locked": False}}

    def callback(self, interaction_id: int, body: dict[str, Any]) -> dict[str, Any]:
        kind = body.get("type")
        flags = (body.get("data") or {}).get("flags", 0)
        payload: dict[str, Any] = {"interaction": {"id": str(interaction_id), "type": 2,
                                                   "response_message_loading": kind == 5,
                                                   "response_message_ephemeral": bool(flags & 64)}}
        if kind == 4:
            payload["resource"] = {"type": 4, "message": self.message(CHANNEL_ID, body.get("data") or {})}
        return payload

    # ---- gateway ---------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        try:
            async for frame in socket:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                op = message.get("op")
                if op == 1:
                    await socket.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    self.identifies += 1
                    shard_id, shard_count = (message.get("d") or {}).get("shard") or (0, 1)
                    await self._on_identify(socket, int(shard_id), int(shard_count))
                elif op == 6:
                    self.resumes += 1
                    shard = self._session_shards.get((message.get("d") or {}).get("session_id"), (0, 1))
                    self._socket_shards[id(socket)] = shard
                    await self._send(socket, "RESUMED", {})
                self._notify()
        finally:
            if socket in self._sockets:
                self._sockets.remove(socket)
            self._socket_shards.pop(id(socket), None)
            self._notify()
        return socket

    async def _on_identify(self, socket: web.WebSocketResponse, shard_id: int = 0, shard_count: int = 1) -> None:
        self.identified_shards.append((shard_id, shard_count))
        self._socket_shards[id(socket)] = (shard_id, shard_count)
        # One session per shard, so a RESUME says which shard the new connection is.
        session_id = self.session_id if shard_count == 1 else f"{self.session_id}-shard-{shard_id}"
        self._session_shards[session_id] = (shard_id, shard_count)
        guild_ids = [g for g in self.guilds if shard_of(g, shard_count) == shard_id]
        await self._send(socket, "READY", {
            "v": 10, "user": BOT_USER, "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": session_id, "resume_gateway_url": self.gateway_url, "shard": [shard_id, shard_count],
            "application": {"id": str(APP_ID), "flags": 0}, "private_channels": [], "relationships": [],
        })
        for guild_id in guild_ids:
            await self._send(socket, "GUILD_CREATE", self.guild_payload(guild_id))

    def guild_payload(self, guild_id: int) -> dict[str, Any]:
        return {
            "id": str(guild_id), "name": "Red Lines Community", "icon": None, "owner_id": "1", "features": [],
            "roles": [{"id": str(guild_id), "name": "@everyone", "permissions": "2248473465835073", "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "channels": [text_channel(channel_id, name, guild_id) for channel_id, name in self.guilds[guild_id]],
            "threads": [], "members": [], "emojis": [], "stickers": [], "voice_states": [], "presences": [],
            "member_count": 2, "large": False, "unavailable": False, "joined_at": TIMESTAMP,
            "premium_tier": 0, "preferred_locale": "en-US", "system_channel_flags": 0, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
        }

    def add_guild(self, guild_id: int = OTHER_GUILD_ID, channel_id: int = OTHER_CHANNEL_ID, name: str = "general") -> None:
        self.guilds[guild_id] = [(channel_id, name)]

    def guild_of(self, channel_id: int) -> int:
        return next((g for g, channels in self.guilds.items() if any(c == channel_id for c, _ in channels)), GUILD_ID)

    def shard_connected(self, guild_id: int) -> bool:
        """Whether a connection serving this guild's shard is open."""
        return any(shard_of(guild_id, count) == shard for shard, count in self._socket_shards.values())

    async def _send(self, socket: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        self.sequence += 1
        frame = {"op": 0, "t": event, "s": self.sequence, "d": data}
        self.sent_events.append(frame)
        await socket.send_str(json.dumps(frame))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the connection serving its guild's shard (every connection without a guild)."""
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        for socket in list(self._sockets):
            shard = self._socket_shards.get(id(socket))
            if guild_id is not None and shard is not None and shard_of(guild_id, shard[1]) != shard[0]:
                continue
            await self._send(socket, event, data)

    async def drop_connections(self, code: int = 4000) -> None:
        """Close the gateway sockets (as Discord does now and then), so the client resumes."""
        for socket in list(self._sockets):
            await socket.close(code=code)

    @property
    def connected(self) -> int:
        return len(self._sockets)

    # ---- events a member causes ------------------------------------------------------------------------

    async def member_message(self, content: str, *, channel_id: int = CHANNEL_ID, author: dict[str, Any] | None = None,
                             mentions: list[dict[str, Any]] | None = None, referenced: dict[str, Any] | None = None,
                             channel_type: int = 0) -> dict[str, Any]:
        author = author or user()
        guild_id = self.guild_of(channel_id)
        message = {"id": str(self.next_id()), "channel_id": str(channel_id), "guild_id": str(guild_id),
                   "author": author, "member": {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
                                                "flags": 0},
                   "content": content, "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
                   "mention_everyone": "@everyone" in content, "mentions": mentions or [], "mention_roles": [],
                   "attachments": [], "embeds": [], "pinned": False, "type": 19 if referenced else 0, "flags": 0,
                   "components": []}
        if referenced:
            message["message_reference"] = {"message_id": referenced["id"], "channel_id": referenced["channel_id"],
                                            "guild_id": str(guild_id)}
            message["referenced_message"] = referenced
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    def _interaction_base(self, kind: int, data: dict[str, Any], channel_id: int = CHANNEL_ID,
                          as_user: dict[str, Any] | None = None) -> dict[str, Any]:
        interaction_id = self.next_id()
        guild_id = self.guild_of(channel_id)
        self._interaction_channels[f"token-{interaction_id}"] = channel_id
        return {"id": str(interaction_id), "application_id": str(APP_ID), "type": kind, "token": f"token-{interaction_id}",
                "version": 1, "guild_id": str(guild_id), "channel_id": str(channel_id),
                "channel": text_channel(channel_id, "general", guild_id),
                "member": {"user": as_user or user(), "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
                           "permissions": "2248473465835073", "flags": 0},
                "data": data, "locale": "en-US", "guild_locale": "en-US", "app_permissions": "2248473465835073",
                "entitlements": [], "authorizing_integration_owners": {"0": str(guild_id)}, "context": 0,
                "attachment_size_limit": 10485760}

    async def slash_command(self, name: str, *, in_channel: int = CHANNEL_ID, subcommand: str | None = None,
                            as_user: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        """``/name [subcommand] option:value...`` from a member (``as_user``; the guild's owner is ``OWNER``)."""
        typed = {str: 3, bool: 5, int: 4}
        values = [{"name": k, "type": typed[type(v)], "value": v} for k, v in options.items()]
        if subcommand:
            values = [{"name": subcommand, "type": 1, "options": values}]
        data = {"id": str(self.next_id()), "name": name, "type": 1, "options": values}
        interaction = self._interaction_base(2, data, in_channel, as_user)
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction

    async def submit_modal(self, shown: dict[str, Any], values: dict[str, str], *, in_channel: int = CHANNEL_ID,
                           as_user: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fill in and send the form the bot showed (the body of its type-9 callback) with ``values`` by custom id."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": custom_id, "value": value}]}
                for custom_id, value in values.items()]
        interaction = self._interaction_base(5, {"custom_id": shown["data"]["custom_id"], "components": rows},
                                             in_channel, as_user)
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction

    async def press_button(self, custom_id: str, message: dict[str, Any]) -> dict[str, Any]:
        interaction = self._interaction_base(3, {"custom_id": custom_id, "component_type": 2}, int(message["channel_id"]))
        interaction["message"] = message
        await self.dispatch("INTERACTION_CREATE", interaction)
        return interaction
