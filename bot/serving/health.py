"""Health: what a running process did lately, its periodic heartbeat, and how ``status`` judges one.

Discord-free: the Discord client supplies a snapshot function (shards, gateway latency); this module
keeps the counts, writes the heartbeat off the event loop and decides up / starting / stale / down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.storage.heartbeats import Heartbeat, read_heartbeats, remove_heartbeat, this_host, write_heartbeat

log = logging.getLogger(__name__)

HOUR = 3600.0


class Activity:
    """Answers and declines of the last hour, and when the last one was given (one process's own)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._answers: deque[float] = deque()
        self._declines: deque[float] = deque()
        self.last_answer_at: float | None = None

    def record(self, answered: bool) -> None:
        now = self.clock()
        (self._answers if answered else self._declines).append(now)
        self.last_answer_at = now
        self._forget(now)

    def _forget(self, now: float) -> None:
        for times in (self._answers, self._declines):
            while times and now - times[0] > HOUR:
                times.popleft()

    def last_hour(self) -> tuple[int, int]:
        """(answers, declines) in the last hour."""
        self._forget(self.clock())
        return len(self._answers), len(self._declines)


async def beat(folder, snapshot: Callable[[], Heartbeat], interval: float) -> None:
    """Write ``snapshot()`` every ``interval`` seconds until cancelled, then remove the file.

    The snapshot is taken on the event loop (a loop that is stuck stops the heartbeat, as it should); the
    file is written in a worker thread so a slow disk never holds the loop.
    """
    first = snapshot()
    try:
        while True:
            try:
                await asyncio.to_thread(write_heartbeat, folder, snapshot())
            except OSError:
                log.warning("could not write the heartbeat in %s", folder, exc_info=True)
            await asyncio.sleep(interval)
    finally:
        await asyncio.to_thread(remove_heartbeat, folder, first.host, first.pid)


# ---- judging heartbeats -----------------------------------------------------------------------------------

UP, STARTING, STALE, DOWN = "up", "starting", "stale", "down"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's (the service user's, seen from a maintainer's shell)
        return True
    return True


@dataclass(frozen=True)
class ProcessHealth:
    beat: Heartbeat
    state: str
    reason: str
    age: float

    @property
    def healthy(self) -> bool:
        return self.state in (UP, STARTING)


def judge(beat: Heartbeat, *, now: float, stale_seconds: float, host: str | None = None,
          alive: Callable[[int], bool] = pid_alive) -> ProcessHealth:
    """Down: the process is gone (checked when it ran on this host). Stale: no beat for ``stale_seconds``
    (a hung event loop, or a process on another host that died). Starting: alive, not connected yet."""
    age = max(0.0, now - beat.updated_at)
    host = host or this_host()
    if beat.host == host and not alive(beat.pid):
        return ProcessHealth(beat, DOWN, f"process {beat.pid} is not running (killed or crashed)", age)
    if age > stale_seconds:
        return ProcessHealth(beat, STALE, f"no heartbeat for {age:.0f} s (more than {stale_seconds:.0f} s)", age)
    if not beat.ready:
        return ProcessHealth(beat, STARTING, "loading or connecting to Discord", age)
    return ProcessHealth(beat, UP, "connected", age)


@dataclass(frozen=True)
class StatusReport:
    processes: list[ProcessHealth]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return bool(self.processes) and not self.problems and all(p.healthy for p in self.processes)


def status_report(folder, *, stale_seconds: float, shard_count: int | None = None, now: float | None = None,
                  alive: Callable[[int], bool] = pid_alive) -> StatusReport:
    """Judge every heartbeat in ``folder``; also report shards that no healthy process serves."""
    beats, unreadable = read_heartbeats(folder)
    now = time.time() if now is None else now
    processes = [judge(b, now=now, stale_seconds=stale_seconds, alive=alive) for b in beats]
    problems = [f"{u.path}: unreadable heartbeat ({u.reason})" for u in unreadable]
    if not processes:
        problems.append(f"no bot process has written a heartbeat in {folder} (is it running?)")
    expected = shard_count or next((p.beat.shard_count for p in processes if p.beat.shard_count), None)
    served = {s for p in processes if p.healthy for s in p.beat.shard_ids}
    if expected and processes and any(p.beat.shard_ids for p in processes):
        missing = sorted(set(range(expected)) - served)
        if missing:
            problems.append(f"shard(s) {', '.join(map(str, missing))} of {expected} served by no running process")
    return StatusReport(processes, problems)


def _when(timestamp: float | None, now: float) -> str:
    if timestamp is None:
        return "never"
    seconds = max(0, now - timestamp)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _latency(beat: Heartbeat) -> str:
    if not beat.latency_ms:
        return "-"
    return ", ".join(f"{shard}: {'-' if ms is None else f'{ms:.0f} ms'}" for shard, ms in sorted(beat.latency_ms.items()))


def format_status(report: StatusReport, now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines = []
    for process in report.processes:
        beat = process.beat
        shards = ",".join(map(str, beat.shard_ids)) or "-"
        total = f" of {beat.shard_count}" if beat.shard_count else ""
        lines.append(f"{beat.name}: {process.state.upper()} ({process.reason}; heartbeat {process.age:.0f} s ago)")
        metrics = f" · metrics on port {beat.metrics_port}" if beat.metrics_port else ""
        lines.append(f"  shards {shards}{total} · gateway latency {_latency(beat)}{metrics}")
        lines.append(f"  index {beat.index_generation or '-'} · last answer {_when(beat.last_answer_at, now)} · "
                     f"last hour: {beat.answers_last_hour} answered, {beat.declines_last_hour} declined")
    lines.extend(f"problem: {problem}" for problem in report.problems)
    lines.append("ok" if report.ok else "NOT OK")
    return "\n".join(lines)
