"""Real bot processes (``python -m tests.bot_process``) started by a test against its fake Discord, and stopped
(or killed) by it. Each process logs to its own file, shown when a test fails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from .conftest import REPO
from .fake_discord import FakeDiscord


class BotProcesses:
    def __init__(self, fake: FakeDiscord, config_path: Path, logs: Path) -> None:
        self.fake = fake
        self.config_path = config_path
        self.logs = logs
        self.processes: list[asyncio.subprocess.Process] = []
        self.log_files: list[Path] = []

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, "DISCORD_TOKEN": "fake-token-not-a-secret", "PYTHONPATH": str(REPO),
               "OMP_NUM_THREADS": "1"}
        env.update(extra or {})
        return env

    async def start(self, *args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
        """``redlines-bot --config CONFIG run ARGS`` in a child process."""
        log = self.logs / f"bot-{len(self.processes)}.log"
        self.log_files.append(log)
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tests.bot_process", self.fake.api_base, self.fake.gateway_url,
                "--config", str(self.config_path), "run", *args,
                cwd=REPO, env=self.environment(env), stdout=out, stderr=asyncio.subprocess.STDOUT)
        self.processes.append(process)
        return process

    async def cli(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run ``redlines-bot --config CONFIG ARGS`` to completion: (exit status, output)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(self.config_path), *args, cwd=REPO,
            env=self.environment(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        return process.returncode, output.decode()

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in self.log_files
                         if log.exists())

    @staticmethod
    def kill(process: asyncio.subprocess.Process) -> None:
        process.send_signal(signal.SIGKILL)

    async def stop_all(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
