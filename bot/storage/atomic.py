"""Writing files and folders so that a crash leaves either the old version or the new one, never a mix."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Persist a folder's entries (a rename is durable only once its folder is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process's umask, read without changing it (os.umask would, for a moment, for every thread)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, sync it, then rename it over ``path``.

    The new file keeps the permissions of the file it replaces (mkstemp creates 0600, which would make a
    corpus file unreadable to the maintainer's other accounts); a new file gets the usual 0666 less umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~current_umask()
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8, exactly: no newline translation (a CRLF file stays CRLF)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def read_text_exact(path: Path) -> str | None:
    """A UTF-8 file's text exactly as stored (``read_text`` would turn CRLF into LF), or None if absent."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None


def point_symlink(link: Path, target: str) -> None:
    """Make ``link`` point at ``target`` in one atomic rename (readers see the old or the new target)."""
    temp = link.parent / f".{link.name}.{os.getpid()}.tmp"
    temp.unlink(missing_ok=True)
    os.symlink(target, temp)
    os.replace(temp, link)
    fsync_dir(link.parent)
