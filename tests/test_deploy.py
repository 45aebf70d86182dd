"""The systemd units in deploy/: valid for systemd itself, and every command line they run is one the CLI accepts."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import build_parser

from .conftest import REPO

DEPLOY = REPO / "deploy"
UNITS = ("redlines-bot.service", "redlines-bot@.service")
SYSTEM_UNITS = next((p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()), None)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(DEPLOY / name, encoding="utf-8")
    return parser


def commands(name: str) -> list[list[str]]:
    service = unit(name)["Service"]
    return [shlex.split(service[key]) for key in ("ExecStartPre", "ExecStart", "ExecReload") if key in service]


@pytest.mark.parametrize("name", UNITS)
def test_unit_restarts_on_failure_reloads_with_the_bot_and_runs_as_its_own_user(name):
    service = unit(name)["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == "redlines" and service["Group"] == "redlines"
    assert service["EnvironmentFile"] == "/etc/redlines-bot/env"
    assert service["StateDirectory"] == "redlines-bot"
    reload = shlex.split(service["ExecReload"])
    assert reload[-3:] == ["reload", "--pid", "$MAINPID"]
    assert "DISCORD_TOKEN" not in service.get("Environment", "")  # the token only in the root-owned env file


@pytest.mark.parametrize("name", UNITS)
def test_every_command_in_the_unit_is_accepted_by_the_cli(name):
    parser = build_parser()
    for argv in commands(name):
        assert argv[0] == "/opt/redlines-bot/.venv/bin/redlines-bot"
        args = [a.replace("%i", "0-1").replace("%S", "/var/lib").replace("$MAINPID", "1234") for a in argv[1:]]
        parsed = parser.parse_args(args)
        assert str(parsed.config) == "/var/lib/redlines-bot/config.yaml"
    run = next(a for a in commands(name) if "run" in a)
    assert ("--shards" in run) == name.endswith("@.service")


def test_sysusers_file_declares_the_service_user():
    lines = [line.split() for line in (DEPLOY / "redlines-bot.sysusers").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0][:2] == ["u", "redlines"]


def _fake_root(tmp_path: Path) -> Path:
    """A filesystem root with systemd's own units and a stand-in for the installed bot, so `verify` can
    check our units without the bot being installed in /opt."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(DEPLOY / name, units / name)
    executable = root / "opt/redlines-bot/.venv/bin/redlines-bot"
    executable.parent.mkdir(parents=True)
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    return root


def _verify(root: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", "--man=no", *names],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None or SYSTEM_UNITS is None,
                    reason="systemd-analyze (systemd) is not installed here")
def test_systemd_analyze_verify_accepts_both_units(tmp_path):
    root = _fake_root(tmp_path)
    result = _verify(root, "redlines-bot.service", "redlines-bot@0-1.service")
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
    # The check has teeth: a misspelt key or a missing program is reported.
    broken = root / "etc/systemd/system/redlines-bot.service"
    broken.write_text(broken.read_text().replace("Restart=on-failure", "Restart=on-failure\nRestrat=always"))
    assert "Unknown key 'Restrat'" in _verify(root, "redlines-bot.service").stderr
    (root / "opt/redlines-bot/.venv/bin/redlines-bot").unlink()
    assert _verify(root, "redlines-bot@0-1.service").returncode != 0
