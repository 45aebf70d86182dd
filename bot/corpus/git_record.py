"""Moderators' changes reach git: each one committed where the corpus lives, and the maintainers' branch merged in.

When the corpus folder is inside a git work tree, every change made from Discord (add, edit, remove,
undo) is committed there with the moderator as author, so the maintainers' repository can learn of it
(they fetch the bot's commits; the bot never pushes) and a deploy from git no longer reverts it.
``sync`` brings the maintainers' branch in with a merge, which keeps the bot's commits as they are; a
conflict is shown and the merge abandoned, never resolved by the bot.

This drives the ``git`` command (subprocess, list arguments, no shell) rather than a Python binding:
git is what maintainers use on the same folder, with their configuration, and is all that is needed.
Every call blocks: callers on an event loop run these in a worker thread.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserFacingError

log = logging.getLogger(__name__)

GIT_TIMEOUT = 60.0
COMMITTER = ("redlines-bot", "redlines-bot@users.noreply.invalid")
_UNSAFE_NAME = re.compile(r"[<>\x00-\x1f\x7f]")


class GitError(UserFacingError):
    """A git command failed; the message carries git's own explanation."""


class SyncConflict(GitError):
    """Merging the maintainers' branch conflicts with the bot's commits: shown, never resolved here."""

    def __init__(self, upstream: str, files: list[str], diff: str) -> None:
        self.files = files
        self.diff = diff
        listing = "\n".join(f"  {name}" for name in files)
        super().__init__(
            f"merging {upstream} conflicts with changes made here, in:\n{listing}\n"
            "Nothing was changed (the merge was abandoned). Resolve it by hand: in the bot's checkout run "
            f"`git merge {upstream}`, fix the files, commit, then `redlines-bot reload`.")


@dataclass(frozen=True)
class Author:
    """Who made a change: the moderator's display name and Discord id."""

    name: str
    discord_id: int | None

    @property
    def git_identity(self) -> str:
        name = " ".join(_UNSAFE_NAME.sub(" ", self.name).split()) or "Discord moderator"
        if self.discord_id is None:
            return f"{name} <moderator@users.noreply.invalid>"
        return f"{name} (Discord {self.discord_id}) <{self.discord_id}@discord.users.noreply.invalid>"


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str


@dataclass(frozen=True)
class SyncResult:
    upstream: str
    before: str
    after: str
    changed: tuple[str, ...]     # files under the corpus folder that the merge changed
    bot_commits: int             # commits here that the maintainers' branch does not have yet

    @property
    def merged(self) -> bool:
        return self.before != self.after


def _run(args: Sequence[str], cwd: Path, *, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise GitError("git is not installed on this machine")
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT,
                              env=full_env, check=False)
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {args[0]}` took longer than {GIT_TIMEOUT:.0f} s and was stopped") from None
    if check and done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(f"`git {args[0]}` failed: {' / '.join(reason[-3:]) or f'exit status {done.returncode}'}")
    return done


def work_tree(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder``, or None (not in one, or no git)."""
    if shutil.which("git") is None or not folder.is_dir():
        return None
    done = _run(["rev-parse", "--show-toplevel"], folder, check=False)
    if done.returncode != 0:
        return None
    return Path(done.stdout.strip())


def commit_change(corpus_dir: Path, relative_paths: Sequence[str], author: Author, message: str) -> Commit | None:
    """Commit the current state of these corpus files (and only them), authored by the moderator.

    None when the corpus is not in a git work tree or the files already match the last commit. Other
    files' uncommitted changes are left alone. Hooks are skipped: the change was validated and is live
    already, and a hook refusing it would only leave git behind the corpus the bot serves.
    """
    top = work_tree(corpus_dir)
    if top is None:
        return None
    paths = [str((corpus_dir / p).resolve().relative_to(top.resolve())) for p in relative_paths]
    _run(["add", "--all", "--", *paths], top)
    staged = _run(["diff", "--cached", "--quiet", "--", *paths], top, check=False)
    if staged.returncode == 0:
        return None
    env = {"GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1]}
    _run(["-c", "commit.gpgsign=false", "commit", "--no-verify", "--quiet", f"--author={author.git_identity}",
          "-m", message, "--", *paths], top, env=env)
    head = _run(["log", "-1", "--format=%h%x00%s"], top).stdout.strip()
    sha, _, subject = head.partition("\x00")
    log.info("committed %s in %s: %s", sha, top, subject)
    return Commit(sha, subject)


def find_commit(corpus_dir: Path, audit_id: int) -> Commit | None:
    """The commit recording audit record ``audit_id`` (its message has an ``Audit-Id:`` trailer)."""
    top = work_tree(corpus_dir)
    if top is None:
        return None
    done = _run(["log", "-1", "--fixed-strings", f"--grep=Audit-Id: {audit_id}", "--format=%h%x00%s"], top, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        return None
    sha, _, subject = done.stdout.strip().partition("\x00")
    return Commit(sha, subject)


def _upstream(top: Path) -> str:
    done = _run(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"], top, check=False)
    if done.returncode != 0:
        raise GitError("the bot's branch has no upstream to pull from: set one with "
                       "`git branch --set-upstream-to=origin/main`, or pass --from REMOTE/BRANCH")
    return done.stdout.strip()


def sync(corpus_dir: Path, upstream: str | None = None) -> SyncResult:
    """Fetch the maintainers' branch and merge it into the bot's checkout; a conflict aborts the merge and raises."""
    top = work_tree(corpus_dir)
    if top is None:
        raise GitError(f"the corpus folder {corpus_dir.name}/ is not in a git work tree: there is nothing to sync")
    upstream = upstream or _upstream(top)
    remotes = set(_run(["remote"], top).stdout.split())
    remote = upstream.split("/", 1)[0]
    if "/" in upstream and remote in remotes:
        _run(["fetch", "--quiet", remote], top)
    before = _run(["rev-parse", "HEAD"], top).stdout.strip()
    env = {"GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1],
           "GIT_AUTHOR_NAME": COMMITTER[0], "GIT_AUTHOR_EMAIL": COMMITTER[1]}
    merged = _run(["-c", "commit.gpgsign=false", "merge", "--no-edit", "--no-verify", upstream], top, env=env, check=False)
    if merged.returncode != 0:
        conflicted = _run(["diff", "--name-only", "--diff-filter=U"], top, check=False).stdout.split()
        if conflicted:
            diff = _run(["diff"], top, check=False).stdout
            _run(["merge", "--abort"], top, check=False)
            raise SyncConflict(upstream, conflicted, diff)
        reason = (merged.stderr or merged.stdout).strip().splitlines()
        raise GitError(f"could not merge {upstream}: {' / '.join(reason[-4:])}")
    after = _run(["rev-parse", "HEAD"], top).stdout.strip()
    corpus_path = str(corpus_dir.resolve().relative_to(top.resolve()))
    changed = tuple(_run(["diff", "--name-only", before, after, "--", corpus_path], top).stdout.split()) \
        if before != after else ()
    ahead = int(_run(["rev-list", "--count", "--no-merges", f"{upstream}..HEAD"], top).stdout.strip() or 0)
    return SyncResult(upstream, before, after, changed, ahead)


def undo_merge(corpus_dir: Path, before: str) -> None:
    """Go back to ``before`` after a merge whose corpus does not validate (uncommitted work is kept)."""
    top = work_tree(corpus_dir)
    if top is not None:
        _run(["reset", "--merge", before], top)
