"""Errors in two tiers.

``UserFacingError`` and its subclasses carry a message that is safe to show to the person who caused
it (a Discord member, a moderator, a maintainer at the command line). Anything else is a bug: it is
logged with its traceback and the user sees a generic message.
"""

from __future__ import annotations

from pathlib import Path


class UserFacingError(Exception):
    """An error whose message is written for the user and safe to show as is."""


class QuestionError(UserFacingError):
    """The question cannot be answered as asked: ``kind`` is "empty", "too_long" or "no_words" (front ends
    that speak other languages word it from ``kind`` and ``params``)."""

    def __init__(self, message: str, kind: str = "no_words", **params: object) -> None:
        super().__init__(message)
        self.kind = kind
        self.params = params


class ShuttingDown(UserFacingError):
    """The bot is stopping: new questions and changes are turned away (what is in flight still finishes)."""


class ConfigError(UserFacingError):
    """``config.yaml`` is missing, malformed, or has an unknown key or a bad value."""


class CorpusError(UserFacingError):
    """One or more corpus files are invalid; ``problems`` lists each with its file and line."""

    MAX_LISTED = 50  # the message stays readable (and small) whatever a file holds; ``problems`` has them all

    def __init__(self, problems: list[CorpusProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems[: self.MAX_LISTED])
        more = len(problems) - self.MAX_LISTED
        if more > 0:
            lines += f"\n  ... and {more} more (run `redlines-bot corpus check` for the full list)"
        super().__init__(f"the corpus has {len(problems)} problem(s):\n{lines}")


class CorpusProblem:
    """One validation problem, located in a file (and a line when it is known)."""

    __slots__ = ("path", "line", "message")

    MAX_MESSAGE_CHARS = 400  # a problem quotes at most a little of the bad value, never all of it

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        if len(message) > self.MAX_MESSAGE_CHARS:
            message = message[: self.MAX_MESSAGE_CHARS - 1] + "…"
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def __repr__(self) -> str:
        return f"CorpusProblem({str(self)!r})"


class IndexUnavailableError(UserFacingError):
    """The index on disk cannot be used (missing, stale, corrupt, built for another model)."""

    REBUILD_HINT = "Rebuild it with: redlines-bot index build"

    def __init__(self, state: str, detail: str) -> None:
        self.state = state
        self.detail = detail
        super().__init__(f"the index is {state}: {detail}. {self.REBUILD_HINT}")


class StorageError(UserFacingError):
    """A file or folder could not be written (no permission, disk full); nothing was half-written."""

    def __init__(self, path: object, error: OSError) -> None:
        self.path = path
        reason = error.strerror or str(error)
        super().__init__(f"cannot write {path}: {reason}. Nothing was changed; fix the problem and try again")


class ModelUnavailableError(UserFacingError):
    """The embedding model could not be loaded (package missing, weights damaged)."""


def without_server_paths(text: str, root: Path | None) -> str:
    """``text`` with the project's absolute folder taken out of every path in it, for people who should not
    learn the server's layout (moderators on Discord see ``corpus/faq/x.yaml``, not ``/srv/bot/corpus/...``)."""
    if root is None:
        return text
    prefix = str(root).rstrip("/")
    return text.replace(prefix + "/", "").replace(prefix, ".") if prefix else text
