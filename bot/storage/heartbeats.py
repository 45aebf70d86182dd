"""Heartbeat files: every few seconds, each running bot process says that it is alive and how it is doing.

One JSON file per process in ``data/processes/``, named ``<host>-<pid>.json`` and replaced atomically, so a
reader sees the previous beat or the next one, never half of one. ``redlines-bot status`` reads them all.
Files rather than database rows, so that the health check still works when the database does not.
A process that stops cleanly removes its file; one that is killed leaves it behind, which is how
``status`` tells "down" from "stopped".
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.storage.atomic import write_text_atomic

log = logging.getLogger(__name__)


def this_host() -> str:
    return socket.gethostname()


@dataclass(frozen=True)
class Heartbeat:
    """One process's state at ``updated_at`` (Unix seconds)."""

    host: str
    pid: int
    started_at: float
    updated_at: float
    ready: bool = False
    shard_ids: tuple[int, ...] = ()
    shard_count: int | None = None
    # Gateway heartbeat round trip per shard, in milliseconds; None until measured or while disconnected.
    latency_ms: dict[int, float | None] = field(default_factory=dict)
    index_generation: str | None = None
    last_answer_at: float | None = None
    answers_last_hour: int = 0
    declines_last_hour: int = 0
    version: str = ""
    metrics_port: int | None = None

    @property
    def name(self) -> str:
        return f"{self.host}-{self.pid}"

    def to_json(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["shard_ids"] = list(self.shard_ids)
        payload["latency_ms"] = {str(shard): ms for shard, ms in self.latency_ms.items()}
        return payload

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Heartbeat:
        return cls(
            host=str(payload["host"]), pid=int(payload["pid"]), started_at=float(payload["started_at"]),
            updated_at=float(payload["updated_at"]), ready=bool(payload.get("ready", False)),
            shard_ids=tuple(int(s) for s in payload.get("shard_ids", ())),
            shard_count=payload.get("shard_count"),
            latency_ms={int(s): (None if ms is None else float(ms)) for s, ms in (payload.get("latency_ms") or {}).items()},
            index_generation=payload.get("index_generation"), last_answer_at=payload.get("last_answer_at"),
            answers_last_hour=int(payload.get("answers_last_hour", 0)),
            declines_last_hour=int(payload.get("declines_last_hour", 0)), version=str(payload.get("version", "")),
            metrics_port=payload.get("metrics_port"),
        )


def heartbeat_path(folder: Path, host: str, pid: int) -> Path:
    return folder / f"{host}-{pid}.json"


def write_heartbeat(folder: Path, beat: Heartbeat) -> Path:
    path = heartbeat_path(folder, beat.host, beat.pid)
    write_text_atomic(path, json.dumps(beat.to_json(), sort_keys=True))
    return path


def remove_heartbeat(folder: Path, host: str, pid: int) -> None:
    heartbeat_path(folder, host, pid).unlink(missing_ok=True)


@dataclass(frozen=True)
class UnreadableHeartbeat:
    path: Path
    reason: str


def read_heartbeats(folder: Path) -> tuple[list[Heartbeat], list[UnreadableHeartbeat]]:
    """Every heartbeat in ``folder``, oldest process first, and the files that could not be read."""
    beats: list[Heartbeat] = []
    unreadable: list[UnreadableHeartbeat] = []
    if not folder.is_dir():
        return beats, unreadable
    for path in sorted(folder.glob("*.json")):
        try:
            beats.append(Heartbeat.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except FileNotFoundError:
            continue  # the process stopped while we listed the folder
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            unreadable.append(UnreadableHeartbeat(path, f"{exc.__class__.__name__}: {exc}"))
    return sorted(beats, key=lambda b: (b.started_at, b.pid)), unreadable
