"""A server-wide cap on how many trainers step at once; the rest queue."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading

TRAINER_THREAD = "np-trainer"
_PR_SET_NAME = 15


class RunSlots:
    def __init__(self, limit: int | None = None) -> None:
        self.limit = max(1, limit or os.cpu_count() or 1)
        self._holders: set[int] = set()
        self._lock = threading.Lock()

    def acquire(self, owner: object) -> bool:
        with self._lock:
            if id(owner) in self._holders:
                return True
            if len(self._holders) >= self.limit:
                return False
            self._holders.add(id(owner))
            return True

    def release(self, owner: object) -> None:
        with self._lock:
            self._holders.discard(id(owner))

    @property
    def in_use(self) -> int:
        return len(self._holders)


def name_os_thread(name: str) -> None:
    """Give the calling thread ``name`` in the operating system too (Linux keeps 15 bytes),
    so ``top -H`` and /proc/<pid>/task/*/comm show which threads are trainers: Python 3.11
    names its threads only for itself. Elsewhere it does nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):  # no libc to call: the name is only a convenience
        pass
