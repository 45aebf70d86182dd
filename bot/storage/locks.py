"""Locks between processes: one bot per data folder, and one writer of the corpus and index at a time.

Both are OS file locks (``flock``, through the ``filelock`` library). The kernel drops them when their
process ends, however it ends, so a SIGKILLed bot or build never leaves a lock that blocks the next one.

- ``BotLock`` (``data/bot.pid``) is held by ``redlines-bot run`` for its whole life. A second bot on
  the same data folder refuses to start; ``running_bot`` finds the holder, so ``redlines-bot reload``
  signals the bot and nothing else, even when an old pid in the file now belongs to another process.
  Bot processes that each run a group of shards (``run --shards 0-1``) share a data folder: each holds
  ``data/bot-shards-0-1.pid``, so a second process for the same shards is refused, as is mixing them with a
  bot that runs every shard.
- ``exclusive_writes`` (``index/.writer.lock``) is held by every change to the corpus files or to the
  index generations: the bot's moderator edits, reloads and undos, and the command line's ``index
  build`` and ``index rollback``. Without it, two writers read the same file and the later write drops
  the other's entry, or one publishes while the other's unpublished generation is pruned.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from bot.errors import StorageError, UserFacingError

log = logging.getLogger(__name__)

BOT_LOCK = "bot.pid"
SHARD_LOCKS = "bot-shards-*.pid"


def bot_lock_name(shard_ids: tuple[int, ...] = ()) -> str:
    """``bot.pid`` for a bot running every shard; ``bot-shards-0-1.pid`` for one running shards 0 and 1."""
    return f"bot-shards-{'-'.join(map(str, sorted(shard_ids)))}.pid" if shard_ids else BOT_LOCK
WRITER_LOCK = ".writer.lock"


class AlreadyRunning(UserFacingError):
    """Another bot already serves this data folder."""


class WriterBusy(UserFacingError):
    """Another process kept the corpus and index locked for longer than we could wait."""


def _record(text: str) -> Callable[[int], None]:
    """An ``on_acquired`` callback writing who holds the lock into the lock file, for messages and humans."""

    def write(fd: int) -> None:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{text}\n".encode(), 0)
        except OSError as exc:  # a full disk must not stop the lock from working; the kernel knows the holder
            log.warning("could not record the lock holder (%s)", exc.strerror)

    return write


def _prepare(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(folder, exc) from exc


def flock_holder(path: Path) -> int | None:
    """The pid holding an flock on ``path`` according to the kernel (``/proc/locks``): None when unlocked.

    Raises ``LookupError`` where the kernel does not say (no ``/proc/locks``, or a pid outside our namespace).
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    try:
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        raise LookupError("no /proc/locks") from None
    key = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in table.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 25381 fe:00:2147083 0 EOF"; waiters are listed with "->" and do not hold it.
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[2] != "->" and fields[5] == key:
            pid = int(fields[4]) if fields[4].isdigit() else 0
            if pid <= 0:
                raise LookupError("holder outside this pid namespace")
            return pid
    return None


def _recorded(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _holder(path: Path) -> int | None:
    """The pid holding ``path``'s lock; None when nobody holds it; 0 when it is held by a pid we cannot tell."""
    try:
        return flock_holder(path)
    except LookupError:
        pass
    # No kernel table: probe the lock, and trust the pid its holder wrote only while it is held.
    probe = FileLock(str(path))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        first = _recorded(path).split(" ", 1)[0]
        return int(first) if first.isdigit() else 0
    probe.release()
    return None


class BotLock:
    """Held by the running bot for its whole life; its pid is written in the file while it holds it."""

    def __init__(self, data_dir: Path, shard_ids: tuple[int, ...] = ()) -> None:
        self.path = data_dir / bot_lock_name(shard_ids)
        self.shard_ids = shard_ids
        self._lock: FileLock | None = None

    def acquire(self) -> BotLock:
        _prepare(self.path.parent)
        # A bot running every shard and bots running groups of them would answer the same guilds twice.
        others = list(self.path.parent.glob(SHARD_LOCKS)) if not self.shard_ids \
            else [self.path.parent / BOT_LOCK]
        clash = next((other for other in others if _holder(other) is not None), None)
        if clash is not None:
            raise AlreadyRunning(
                f"another redlines-bot (pid {_holder(clash) or '?'}, {clash.name}) runs "
                f"{'a group of shards' if not self.shard_ids else 'every shard'} on the data folder {self.path.parent}; "
                "stop it first: a data folder is served either by one bot or by bots for groups of shards")
        lock = FileLock(str(self.path), on_acquired=_record(str(os.getpid())))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _holder(self.path)
            who = f"pid {holder}" if holder else "another process"
            raise AlreadyRunning(
                f"another redlines-bot ({who}) is already running with the data folder {self.path.parent}; "
                "stop it first, or give this one its own data folder (paths.data_dir in the config)") from None
        except OSError as exc:
            raise StorageError(self.path, exc) from exc
        self._lock = lock
        return self

    def release(self) -> None:
        if self._lock is None:
            return
        try:  # an empty file says "not running" to anyone who reads it by hand
            self.path.write_bytes(b"")
        except OSError:
            pass
        self._lock.release()
        self._lock = None

    def __enter__(self) -> BotLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def running_bots(data_dir: Path) -> list[int]:
    """The pids of every bot holding a lock of ``data_dir`` now (one, or one per group of shards); 0 for one that is
    starting."""
    found = []
    for path in (data_dir / BOT_LOCK, *sorted(data_dir.glob(SHARD_LOCKS))):
        holder = _holder(path)
        if holder is not None:
            found.append(holder)
    return found


def running_bot(data_dir: Path) -> int | None:
    """The pid of the bot that holds ``data_dir``'s lock now; None when no bot runs on it; 0 when one does but
    its pid cannot be told yet (it is starting).

    The pid comes from the kernel's lock table, not from what a file says, so a pid left behind by a bot
    that was killed (and perhaps reused since by an unrelated process) is never returned.
    """
    return _holder(data_dir / BOT_LOCK)


@contextmanager
def exclusive_writes(index_dir: Path, what: str, *, timeout: float,
                     waiting: Callable[[str], None] | None = None,
                     cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
    """Hold the corpus-and-index writer lock while the block runs.

    ``what`` says who we are in the lock file (shown to whoever waits for us); ``waiting`` is told once when
    another process holds the lock; ``cancelled`` stops the wait early (a shutting-down bot).
    """
    _prepare(index_dir)
    path = index_dir / WRITER_LOCK
    lock = FileLock(str(path), on_acquired=_record(f"{os.getpid()} {what}"))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _recorded(path) or "another process"
            if waiting is not None:
                waiting(f"waiting for pid {holder} to finish")
            try:
                lock.acquire(timeout=timeout, cancel_check=cancelled)
            except Timeout:
                if cancelled is not None and cancelled():
                    raise WriterBusy("the bot is shutting down; nothing was changed") from None
                raise WriterBusy(f"pid {_recorded(path) or holder} is still changing the corpus or the index after "
                                 f"{timeout:.0f} s; nothing was changed: try again when it has finished") from None
    except OSError as exc:
        raise StorageError(path, exc) from exc
    try:
        yield
    finally:
        lock.release()


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (this process included); one we may not signal still exists."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
