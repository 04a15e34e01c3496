"""Claims of sweep points, so that two sweeps on one folder split the points.

Before a sweep runs a point it *claims* it: it opens ``points/<id>/.claim`` and takes an
exclusive, non-blocking `fcntl.flock` lock on it, which it holds (and which names its
host and pid) until the point has finished or failed. Another sweep on the same folder
finds the point locked and leaves it alone; it waits for it at the end, so that both
invocations aggregate a complete table. The operating system releases the lock of a
process that dies (``kill -9``, a crash, a lost NFS client's lease), so a stale claim
never blocks a point: the next sweep takes it over. After taking a lock the claimant
checks that the file is still the one at the path (a claim removed and made again in
between is not shared) and that the point is still unfinished (the caller's check).
"""

import contextlib
import fcntl
import json
import os
import socket
from pathlib import Path

__all__ = ["CLAIM", "claim", "release", "owner", "held_elsewhere", "release_all"]

#: The claim file of a point (``points/<id>/.claim``), locked by the sweep running it.
CLAIM = ".claim"
_HELD = {}  # path -> open file descriptor holding the lock


def owner(point_dir):
    """The ``{'host', 'pid'}`` written into the claim, or None."""
    try:
        return json.loads((Path(point_dir) / CLAIM).read_text() or "null")
    except (OSError, ValueError):
        return None


def claim(point_dir):
    """Claim the point in ``point_dir`` for this process: True when this process holds
    it (now or before), False while another process does."""
    path = Path(point_dir) / CLAIM
    if str(path) in _HELD:
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # released and removed between our open and our lock: again
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid()}).encode())
        _HELD[str(path)] = fd
        return True
    return False


def release(point_dir):
    """Give up this process's claim of ``point_dir`` (the file is removed)."""
    path = Path(point_dir) / CLAIM
    fd = _HELD.pop(str(path), None)
    if fd is None:
        return
    with contextlib.suppress(OSError):
        path.unlink()  # while still locked: nobody takes the old file after this
    os.close(fd)


def release_all():
    """Give up every claim of this process."""
    for path in list(_HELD):
        release(Path(path).parent)


def held_elsewhere(point_dir):
    """True while another process holds the claim of ``point_dir``."""
    path = Path(point_dir) / CLAIM
    if str(path) in _HELD:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
