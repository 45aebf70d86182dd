"""Configuring logging once, in the entry point: lines for people, or one JSON object per line for log shippers."""

from __future__ import annotations

import logging
import sys

from bot.config import LoggingSettings
from bot.errors import ConfigError

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log every request or batch at INFO.
NOISY = ("faiss.loader", "sentence_transformers", "transformers", "httpx", "discord.gateway")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is logged (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def configure_logging(settings: LoggingSettings | None = None, *, verbose: bool = False) -> None:
    """Log to standard error (the journal, under systemd). ``logging.json`` gives one JSON object per line
    with ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``pid`` (and ``exc_info`` for
    tracebacks)."""
    settings = settings or LoggingSettings()
    handler = _StderrHandler()
    if settings.json:
        try:
            from pythonjsonlogger.json import JsonFormatter
        except ImportError:
            raise ConfigError("logging.json is true but python-json-logger is not installed: "
                              "pip install python-json-logger") from None
        handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(process)d", timestamp="time",
                                           rename_fields={"levelname": "level", "name": "logger", "process": "pid"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:  # ours, from an earlier call
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else getattr(logging, settings.level.upper()))
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
