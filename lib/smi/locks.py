"""One lock per output: a second run that would write the same output stops at once, naming the holder.

:func:`output_lock` holds ``OUT.lock`` (:func:`lock_path`) with ``fcntl.flock`` while a command
writes ``OUT``; the lock dies with its process, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smi.errors import SmiError
from smi.files import open_no_follow

#: The lock files this process holds, by (path, thread): a nested lock of the same output in the same
#: thread is taken at once; another thread of the process is refused as another process is.
_HELD_LOCKS: dict[tuple[str, int], int] = {}


def lock_path(out: Path) -> Path:
    """The lock file a run holds while it writes ``out``: ``counts.csv`` → ``counts.csv.lock``.

    Parameters
    ----------
    out : Path
        The output file or folder.

    Returns
    -------
    Path
        The lock file beside it.
    """
    out = Path(out)
    return out.with_name(out.name + ".lock")


def _lock_holder(fd: int) -> str:
    """What the run holding a lock file wrote in it (its command, pid, host and start)."""
    try:
        return os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "pid unknown"
    except OSError:
        return "pid unknown"


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (not removed or replaced since)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except OSError:
        return False


@contextmanager
def output_lock(out: Path, command: str = "smi") -> Iterator[Path | None]:
    """Hold ``OUT.lock`` exclusively while ``command`` writes ``out``; refuse at once if another run holds it.

    The one lock of every long command (count, probe, evaluate, lab train, lab run). The lock
    file is opened without following a link (:func:`open_no_follow`) and holds the holder's
    command, pid, host and start time, which the refusal names. It is removed (while still
    locked) when the block ends. A lock of ``out`` this thread already holds is taken at once
    (a command that calls another on the same output). Where file locks do not exist (no
    fcntl, or a file system without them), runs are not kept apart and None is yielded.

    Parameters
    ----------
    out : Path
        The output file or folder.
    command : str
        The command writing it, as the refusal names it (``"smi probe"``).

    Yields
    ------
    Path or None
        The lock file, or None where locks are not available.

    Raises
    ------
    SmiError
        When another run holds the lock, or the lock file is a link or cannot be created.
    """
    try:
        import fcntl
    except ImportError:
        yield None
        return
    path = lock_path(out)
    key = (os.path.abspath(path), threading.get_ident())
    if key in _HELD_LOCKS:
        yield path
        return
    while True:
        try:
            fd = open_no_follow(path, os.O_RDWR | os.O_CREAT)
        except OSError as error:
            raise SmiError(f"{path}: cannot create the lock file ({error.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = _lock_holder(fd)
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SmiError(
                    f"{out}: another {command} is writing this output ({holder}); "
                    "wait for it to end or choose another --out"
                ) from None
            print(
                f"{path}: cannot lock ({error.strerror}): two runs into {out} would not be kept apart", file=sys.stderr
            )
            yield None
            return
        if _same_file(fd, path):
            break
        os.close(fd)  # the previous holder removed this file while we waited: lock the one now at the path
    _HELD_LOCKS[key] = fd
    try:
        host = os.uname().nodename if hasattr(os, "uname") else "this host"
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()} on {host}, {command}, started {stamp}\n".encode())
        yield path
    finally:
        del _HELD_LOCKS[key]
        path.unlink(missing_ok=True)  # still locked, so no other run can hold a file that is about to vanish
        os.close(fd)
