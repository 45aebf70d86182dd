"""Per-server settings: what a server's admins chose with /setup, over the defaults in ``config.yaml``.

``GuildSettings`` is the one lookup the rest of the bot uses (answer channels, moderator roles, the
moderators' channel for hand-offs, the default language). A server stores only what its admins changed
(``StoredSettings``); everything else follows ``config.yaml``, so a default changed there reaches every
server that did not override it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bot.config import DiscordSettings
from bot.storage.database import Database

SETTING_KEYS = ("answer_channels", "moderator_roles", "moderators_channel", "language")


@dataclass(frozen=True)
class GuildSettings:
    """The settings in force in one server."""

    answer_channels: tuple[int, ...]
    moderator_roles: tuple[int, ...]
    moderators_channel: int | None
    language: str
    from_setup: frozenset[str] = frozenset()  # the keys set with /setup rather than config.yaml

    @classmethod
    def resolve(cls, defaults: DiscordSettings, stored: StoredSettings | None) -> GuildSettings:
        values: dict[str, Any] = {key: getattr(defaults, key) for key in SETTING_KEYS}
        overrides = stored.values if stored else {}
        values.update(overrides)
        return cls(answer_channels=tuple(values["answer_channels"]), moderator_roles=tuple(values["moderator_roles"]),
                   moderators_channel=values["moderators_channel"], language=values["language"],
                   from_setup=frozenset(overrides))


@dataclass(frozen=True)
class StoredSettings:
    """The keys a server's admins set with /setup (a key absent here follows config.yaml)."""

    values: dict[str, Any] = field(default_factory=dict)

    def with_value(self, key: str, value: Any) -> StoredSettings:
        if key not in SETTING_KEYS:
            raise KeyError(key)
        if isinstance(value, (list, tuple)):
            value = tuple(int(v) for v in value)
        return StoredSettings({**self.values, key: value})

    def to_json(self) -> str:
        return json.dumps({k: list(v) if isinstance(v, tuple) else v for k, v in self.values.items()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StoredSettings:
        raw = json.loads(text)
        values: dict[str, Any] = {}
        for key, value in raw.items() if isinstance(raw, dict) else ():
            if key in ("answer_channels", "moderator_roles") and isinstance(value, list):
                values[key] = tuple(int(v) for v in value)
            elif key == "moderators_channel" and (value is None or isinstance(value, int)):
                values[key] = value
            elif key == "language" and isinstance(value, str):
                values[key] = value
        return cls(values)


class SettingsStore(Database):
    """The guild_settings table (defined in ``bot.storage.schema``)."""

    def all(self) -> dict[int, StoredSettings]:
        rows = self.execute("SELECT guild_id, settings FROM guild_settings")
        return {int(guild_id): StoredSettings.from_json(text) for guild_id, text in rows}

    def save(self, guild_id: int, stored: StoredSettings) -> None:
        """Replace a server's settings; with nothing left to override, forget the server's row."""
        if not stored.values:
            self.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
            return
        self.execute(
            "INSERT INTO guild_settings (guild_id, settings, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            (guild_id, stored.to_json(), time.time()))

    def any_answer_channels(self) -> bool:
        """Whether some server set answer channels (the bot then needs the message-content intent)."""
        return any(stored.values.get("answer_channels") for stored in self.all().values())
