"""Giving a ``discord.ui`` item built at run time its callback, the way discord.py documents it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

Callback = Callable[[discord.Interaction], Awaitable[None]]


def set_callback(item: discord.ui.Item[Any], callback: Callback) -> None:
    """``item.callback = callback``. discord.py documents assigning it (the item awaits ``self.callback(interaction)``),
    but annotates ``callback`` as a method generic in the client type, so a type checker refuses any assignment;
    this is the one place that is silenced."""
    item.callback = callback  # type: ignore[method-assign,assignment]
