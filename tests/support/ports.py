"""Free TCP ports for test servers, handed out so that two callers never get the same one.

`bind(0)` and close (the usual trick) races twice: the kernel picks from the ephemeral range, where any
outgoing connection on the machine may take the port before our server binds it, and a parallel test session
may be handed the same port a moment later. Here a port is chosen below the ephemeral range (no outgoing
connection ever gets one) and reserved for the life of this process by an exclusive lock on a file per port
(so concurrent sessions of this machine, of any checkout, skip it); it is checked bindable before it is handed
out. Servers still bind it themselves: the caller hands the number to a subprocess or to Docker.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path
from typing import IO

LOCK_DIR = Path(tempfile.gettempdir()) / "edp-test-ports"
SPAN = 10_000  # how many ports below the ephemeral range are used
ATTEMPTS = 500

_reserved: dict[int, IO[bytes]] = {}  # port -> its lock file, held until the process exits


def ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def candidate_range() -> tuple[int, int]:
    low, _ = ephemeral_range()
    return max(1024, low - SPAN), low


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _lock(port: int) -> IO[bytes] | None:
    LOCK_DIR.mkdir(exist_ok=True)
    if LOCK_DIR.stat().st_uid == os.geteuid():
        LOCK_DIR.chmod(0o1777)  # every user's sessions share it, like /tmp (mkdir's mode is cut by the umask)
    # Opened read-only (flock needs no more), so a lock file another user created can be locked too. Held open
    # on purpose: the lock lasts as long as the process.
    handle = os.fdopen(os.open(LOCK_DIR / f"{port}.lock", os.O_RDONLY | os.O_CREAT, 0o644), "rb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and no other caller on this machine holds."""
    low, high = candidate_range()
    rng = random.Random(os.getpid() ^ random.getrandbits(32))
    for _ in range(ATTEMPTS):
        port = rng.randrange(low, high)
        if port in _reserved:
            continue
        handle = _lock(port)
        if handle is None:
            continue  # another process holds it
        if not _bindable(port):
            handle.close()
            continue
        _reserved[port] = handle
        return port
    raise RuntimeError(f"no free port in {low}-{high} after {ATTEMPTS} attempts")
