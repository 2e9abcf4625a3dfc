"""A server-wide cap on how many trainers step at once; the rest queue."""

from __future__ import annotations

import os
import threading


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
