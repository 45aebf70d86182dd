"""A fake Discord served on 127.0.0.1: REST and gateway, enough for the real, unpatched discord.py client.

It speaks the wire protocol (JSON over HTTP with Content-Type exactly ``application/json``, and the
gateway's HELLO / IDENTIFY / READY / heartbeat / RESUME over a websocket), keeps what the bot sends,
and lets a test inject gateway events (a member's message, edit, deletion or reaction, a forum post, a slash
command, a button press).

It keeps the messages of every channel (so the bot can fetch, edit and delete them and read a thread's
history), opens threads the way Discord does (a thread on a message has the message's id, and the bot is told
with THREAD_CREATE), and enforces Discord's interaction deadlines: the first response to an interaction later
than ``callback_deadline`` (3 s) after it was created, or a follow-up later than ``followup_deadline``
(15 min), gets Discord's 404 and is listed in ``late`` (taken from the red-team kit's ``fake_plus.py``).

Sharding works as on Discord: ``GET /gateway/bot`` recommends ``shard_count`` shards, each connection
IDENTIFYs with ``[shard_id, shard_count]``, and a guild's events go only to the connection of shard
``(guild_id >> 22) % shard_count``. Several bot processes (one per group of shards) can share one fake.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = 900000000000000001
BOT_ID = 900000000000000001
GUILD_ID = 900000000000000100
CHANNEL_ID = 900000000000000200
ANSWER_CHANNEL_ID = 900000000000000201
FORUM_CHANNEL_ID = 900000000000000202
USER_ID = 900000000000000300
# A second guild, on the other shard of two: (guild_id >> 22) % 2 is 1 for GUILD_ID and 0 for this one.
OTHER_GUILD_ID = GUILD_ID + (1 << 22)
OTHER_CHANNEL_ID = 900000000000000210
TIMESTAMP = "2026-11-30T00:00:00+00:00"
MESSAGE_CONTENT_INTENT = 1 << 15

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


def text_channel(channel_id: int, name: str, kind: int = 0, guild_id: int = GUILD_ID) -> dict[str, Any]:
    return {"id": str(channel_id), "type": kind, "guild_id": str(guild_id), "name": name, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None, "rate_limit_per_user": 0,
            "last_message_id": None, "flags": 0}


def forum_channel(channel_id: int, name: str) -> dict[str, Any]:
    return {**text_channel(channel_id, name), "type": 15, "available_tags": [], "default_reaction_emoji": None,
            "default_thread_rate_limit_per_user": 0, "default_sort_order": None, "default_forum_layout": 0}


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
    callback_deadline: float | None = 3.0        # Discord: the first response within 3 s
    followup_deadline: float | None = 15 * 60.0  # Discord: follow-ups for 15 minutes
    late: list[Request] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)   # every message, by id
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)   # threads, by id
    deleted: list[int] = field(default_factory=list)                    # message and thread ids
    _created_at: dict[str, float] = field(default_factory=dict)         # interaction token -> time
    _query: dict[str, str] = field(default_factory=dict)                # of the request being routed
    intents: int | None = None                                          # what the bot identified with
    # Shards recommended by GET /gateway/bot, and the gateway heartbeat interval sent in HELLO.
    shard_count: int = 1
    heartbeat_interval_ms: int = 41250
    # Guilds besides the default one: guild id -> its text channels (id, name). See add_guild.
    other_guilds: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    # (shard_id, shard_count) of every IDENTIFY received, in order.
    identified_shards: list[tuple[int, int]] = field(default_factory=list)
    _socket_shards: dict[int, tuple[int, int]] = field(default_factory=dict)
    _session_shards: dict[str, tuple[int, int]] = field(default_factory=dict)
    _interaction_channels: dict[str, int] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(910000000000000000))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
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
        received = Request(request.method, path, dict(request.query), body, time.perf_counter())
        self.requests.append(received)
        self._notify()
        expired = self._expired(path)
        if expired is not None:
            self.late.append(received)
            return self._json(expired, status=404)
        self._query = dict(request.query)
        response = self._route(request.method, path, body)
        if response is None:
            self.unknown_routes.append(f"{request.method} {path}")
            return self._json({"message": "404: Not Found", "code": 0}, status=404)
        return response

    def _expired(self, path: str) -> dict[str, Any] | None:
        """Discord's answer to an interaction response sent after its deadline, or None when in time."""
        parts = path.strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback" and len(parts) == 4:
            limit, error = self.callback_deadline, {"message": "Unknown interaction", "code": 10062}
        elif parts[0] == "webhooks" and len(parts) >= 3 and parts[2] in self._created_at:
            limit, error = self.followup_deadline, {"message": "Unknown Webhook", "code": 10015}
        else:
            return None
        created = self._created_at.get(parts[2])
        if limit is None or created is None or time.monotonic() - created <= limit:
            return None
        return error

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
        if parts[0] == "channels":
            return self._channel_route(method, parts, body or {}, self._query)
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return self._json(self.callback(int(parts[1]), body or {}))
        if parts[0] == "webhooks":
            return self._webhook_route(method, parts, body or {})
        return None

    def _channel_route(self, method: str, parts: list[str], body: dict[str, Any],
                       query: dict[str, str]) -> web.Response | None:
        channel_id = int(parts[1])
        tail = parts[2:]
        if tail == ["messages"] and method == "POST":
            return self._json(self.message(channel_id, body))
        if tail == ["messages"] and method == "GET":
            return self._json(self.history(channel_id, int(query.get("limit", 50)), query.get("before")))
        if tail == ["threads"] and method == "POST":
            return self._json(self.thread(channel_id, body))
        if len(tail) == 3 and tail[0] == "messages" and tail[2] == "threads" and method == "POST":
            return self._json(self.thread(channel_id, body, on_message=int(tail[1])))
        if len(tail) == 2 and tail[0] == "messages":
            stored = self.messages.get(int(tail[1]))
            if stored is None or stored["channel_id"] != str(channel_id):
                return self._json({"message": "Unknown Message", "code": 10008}, status=404)
            if method == "GET":
                return self._json(stored)
            if method == "PATCH":
                stored.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
                stored["content"] = stored.get("content") or ""
                stored["edited_timestamp"] = TIMESTAMP
                return self._json(stored)
            if method == "DELETE":
                self._delete(stored)
                return web.Response(status=204)
        if len(tail) == 5 and tail[0] == "messages" and tail[2] == "reactions" and tail[4] == "@me":
            stored = self.messages.get(int(tail[1]))
            if stored is None:
                return self._json({"message": "Unknown Message", "code": 10008}, status=404)
            emoji = urllib.parse.unquote(tail[3])
            mine = stored.setdefault("bot_reactions", [])
            if method == "PUT" and emoji not in mine:
                mine.append(emoji)
            elif method == "DELETE" and emoji in mine:
                mine.remove(emoji)
            return web.Response(status=204)
        if not tail:
            channel = self.channels.get(channel_id)
            if channel is None:
                return self._json({"message": "Unknown Channel", "code": 10003}, status=404)
            if method == "GET":
                return self._json(channel)
            if method == "PATCH":
                channel.update({k: v for k, v in body.items() if k == "name"})
                if "archived" in body:
                    channel["thread_metadata"]["archived"] = body["archived"]
                return self._json(channel)
            if method == "DELETE":
                del self.channels[channel_id]
                self.deleted.append(channel_id)
                self._later("THREAD_DELETE", {"id": str(channel_id), "guild_id": str(GUILD_ID),
                                              "parent_id": channel["parent_id"], "type": channel["type"]})
                return self._json(channel)
        return None

    def _webhook_route(self, method: str, parts: list[str], body: dict[str, Any]) -> web.Response | None:
        if method == "DELETE":
            return web.Response(status=204)
        if method in ("POST", "PATCH"):
            channel_id = self._interaction_channels.get(parts[2] if len(parts) > 2 else "", CHANNEL_ID)
            message = self.message(channel_id, body)
            message["webhook_id"] = str(APP_ID)
            return self._json(message)
        return None

    def _delete(self, stored: dict[str, Any]) -> None:
        self.messages.pop(int(stored["id"]), None)
        self.deleted.append(int(stored["id"]))
        self._later("MESSAGE_DELETE", {"id": stored["id"], "channel_id": stored["channel_id"],
                                       "guild_id": str(GUILD_ID)})

    def _later(self, event: str, data: dict[str, Any]) -> None:
        """Tell the bot about a change it made, as Discord does, after the REST response."""
        asyncio.get_running_loop().create_task(self.dispatch(event, data))

    def history(self, channel_id: int, limit: int, before: str | None) -> list[dict[str, Any]]:
        """A channel's messages, newest first (Discord's order for ``before``)."""
        found = [m for m in self.messages.values() if m["channel_id"] == str(channel_id)
                 and (before is None or int(m["id"]) < int(before))]
        return sorted(found, key=lambda m: int(m["id"]), reverse=True)[:limit]

    def in_channel(self, channel_id: int) -> list[dict[str, Any]]:
        """A channel's messages, oldest first."""
        return list(reversed(self.history(channel_id, 1000, None)))

    def message(self, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        guild_id = self.guild_of(channel_id)
        message = {"id": str(self.next_id()), "channel_id": str(channel_id), "guild_id": str(guild_id), "author": BOT_USER,
                   "content": body.get("content") or "", "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
                   "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
                   "embeds": body.get("embeds") or [], "pinned": False, "type": 0, "flags": body.get("flags", 0),
                   "components": body.get("components") or []}
        reference = body.get("message_reference")
        if reference:
            message["type"] = 19
            message["message_reference"] = {"message_id": str(reference["message_id"]),
                                            "channel_id": str(reference.get("channel_id") or channel_id),
                                            "guild_id": str(guild_id)}
        self.messages[int(message["id"])] = message
        return message

    def thread(self, parent_id: int, body: dict[str, Any], *, on_message: int | None = None,
               owner_id: int = BOT_ID, forum: bool = False) -> dict[str, Any]:
        """A new public thread. On a message it takes the message's id, as on Discord."""
        thread_id = on_message or self.next_id()
        thread = {"id": str(thread_id), "type": 11, "guild_id": str(GUILD_ID), "parent_id": str(parent_id),
                  "owner_id": str(owner_id), "name": body.get("name", "thread"), "last_message_id": None,
                  "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                  "applied_tags": [] if forum else None,
                  "thread_metadata": {"archived": False, "auto_archive_duration": body.get("auto_archive_duration", 1440),
                                      "archive_timestamp": TIMESTAMP, "locked": False}}
        if not forum:
            del thread["applied_tags"]
        self.channels[thread_id] = thread
        self._later("THREAD_CREATE", {**thread, "newly_created": True})
        return thread

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
                    self.intents = int((message.get("d") or {}).get("intents") or 0)
                    shard_id, shard_count = (message.get("d") or {}).get("shard") or (0, 1)
                    self._socket_shards[id(socket)] = (int(shard_id), int(shard_count))
                    await self._on_identify(socket)
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

    async def _on_identify(self, socket: web.WebSocketResponse) -> None:
        shard_id, shard_count = self._socket_shards.get(id(socket), (0, 1))  # from the IDENTIFY
        self.identified_shards.append((shard_id, shard_count))
        # One session per shard, so a RESUME says which shard the new connection is.
        session_id = self.session_id if shard_count == 1 else f"{self.session_id}-shard-{shard_id}"
        self._session_shards[session_id] = (shard_id, shard_count)
        guild_ids = [g for g in (GUILD_ID, *self.other_guilds) if shard_of(g, shard_count) == shard_id]
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
            "channels": self._channels_of(guild_id),
            "threads": [], "members": [], "emojis": [], "stickers": [], "voice_states": [], "presences": [],
            "member_count": 2, "large": False, "unavailable": False, "joined_at": TIMESTAMP,
            "premium_tier": 0, "preferred_locale": "en-US", "system_channel_flags": 0, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
        }

    def _channels_of(self, guild_id: int) -> list[dict[str, Any]]:
        if guild_id == GUILD_ID:
            return [text_channel(CHANNEL_ID, "general"), text_channel(ANSWER_CHANNEL_ID, "ask-the-letter"),
                    forum_channel(FORUM_CHANNEL_ID, "questions-forum")]
        return [text_channel(channel_id, name, guild_id=guild_id) for channel_id, name in self.other_guilds[guild_id]]

    def add_guild(self, guild_id: int = OTHER_GUILD_ID, channel_id: int = OTHER_CHANNEL_ID, name: str = "general") -> None:
        """Another guild with one text channel (by default the other shard's of two)."""
        self.other_guilds[guild_id] = [(channel_id, name)]

    def guild_of(self, channel_id: int) -> int:
        return next((g for g, channels in self.other_guilds.items() if any(c == channel_id for c, _ in channels)),
                    GUILD_ID)

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
                             channel_type: int = 0, message_id: int | None = None,
                             resolve_reference: bool = True) -> dict[str, Any]:
        """A member posts a message. A reply carries the message it replies to, as Discord sends it, unless
        ``resolve_reference`` is False (then the bot must fetch it)."""
        author = author or user()
        if not self.reads_content(mentions):
            content = ""  # Discord withholds the text from a bot without the Message Content intent
        guild_id = self.guild_of(channel_id)
        message = {"id": str(message_id or self.next_id()), "channel_id": str(channel_id), "guild_id": str(guild_id),
                   "author": author, "member": {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False,
                                                "flags": 0},
                   "content": content, "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
                   "mention_everyone": "@everyone" in content, "mentions": mentions or [], "mention_roles": [],
                   "attachments": [], "embeds": [], "pinned": False, "type": 19 if referenced else 0, "flags": 0,
                   "components": []}
        if referenced:
            message["message_reference"] = {"message_id": referenced["id"], "channel_id": referenced["channel_id"],
                                            "guild_id": str(guild_id)}
            if resolve_reference:
                message["referenced_message"] = referenced
        self.messages[int(message["id"])] = message
        await self.dispatch("MESSAGE_CREATE", message)
        return message

    def reads_content(self, mentions: list[dict[str, Any]] | None) -> bool:
        """Whether the bot gets a member message's text: with the Message Content intent, or when mentioned."""
        if self.intents is None:  # not identified (or a subclass's own gateway): deliver everything
            return True
        return bool(self.intents & MESSAGE_CONTENT_INTENT) or any(m["id"] == str(BOT_ID) for m in mentions or [])

    async def member_edit(self, message: dict[str, Any], content: str,
                          mentions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A member edits a message: Discord sends the whole updated message."""
        stored = self.messages[int(message["id"])]
        if mentions is not None:
            stored["mentions"] = mentions
        stored.update(content=content if self.reads_content(stored["mentions"]) else "", edited_timestamp=TIMESTAMP)
        await self.dispatch("MESSAGE_UPDATE", stored)
        return stored

    async def member_delete(self, message: dict[str, Any]) -> None:
        stored = self.messages.pop(int(message["id"]), message)
        self.deleted.append(int(message["id"]))
        await self.dispatch("MESSAGE_DELETE", {"id": stored["id"], "channel_id": stored["channel_id"],
                                               "guild_id": str(GUILD_ID)})

    async def member_react(self, message: dict[str, Any], emoji: str, author: dict[str, Any] | None = None) -> None:
        author = author or user()
        await self.dispatch("MESSAGE_REACTION_ADD", {
            "user_id": author["id"], "channel_id": message["channel_id"], "message_id": message["id"],
            "guild_id": str(GUILD_ID), "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0,
            "member": {"user": author, "roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0}})

    async def forum_post(self, title: str, content: str, *, forum_id: int = FORUM_CHANNEL_ID,
                         author: dict[str, Any] | None = None) -> dict[str, Any]:
        """A member opens a forum post: Discord creates the thread, then its first message with the thread's id."""
        author = author or user()
        thread = self.thread(forum_id, {"name": title}, owner_id=int(author["id"]), forum=True)
        await asyncio.sleep(0)  # THREAD_CREATE goes out first, as on Discord
        return await self.member_message(content, channel_id=int(thread["id"]), author=author,
                                         message_id=int(thread["id"]))

    def bot_messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """What the bot has posted and not deleted (in one channel, or anywhere), oldest first."""
        return sorted((m for m in self.messages.values() if m["author"]["id"] == str(BOT_ID)
                       and (channel_id is None or m["channel_id"] == str(channel_id))), key=lambda m: int(m["id"]))

    def reactions_on(self, message: dict[str, Any]) -> list[str]:
        """The bot's reactions on a message."""
        return list(self.messages.get(int(message["id"]), message).get("bot_reactions", []))

    def _interaction_base(self, kind: int, data: dict[str, Any], channel_id: int = CHANNEL_ID,
                          as_user: dict[str, Any] | None = None) -> dict[str, Any]:
        interaction_id = self.next_id()
        self._created_at[f"token-{interaction_id}"] = time.monotonic()
        self._interaction_channels[f"token-{interaction_id}"] = channel_id
        guild_id = self.guild_of(channel_id)
        return {"id": str(interaction_id), "application_id": str(APP_ID), "type": kind, "token": f"token-{interaction_id}",
                "version": 1, "guild_id": str(guild_id), "channel_id": str(channel_id),
                "channel": text_channel(channel_id, "general", guild_id=guild_id),
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
