"""Bounded metric history: memory stays flat however long a run goes.

When the table outgrows ``cap`` rows, every other row of the older part is
dropped; the newest ``recent`` rows are always kept at full resolution.
"""

from __future__ import annotations

import math

import numpy as np


class History:
    def __init__(self, cap: int = 2000, recent: int = 500) -> None:
        if not 0 < recent < cap:
            raise ValueError("need 0 < recent < cap")
        self.cap, self.recent = cap, recent
        self.columns: dict[str, list[float]] = {}
        self.total = 0  # rows ever appended

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), []))

    def append(self, **row: float) -> None:
        cols = self.columns
        if row.keys() == cols.keys():  # the usual case: the same columns every time
            for key, value in row.items():
                cols[key].append(value)
            self.total += 1
            if len(cols[key]) > self.cap:
                self._thin()
            return
        n = len(self)
        for key in row.keys() - self.columns.keys():
            self.columns[key] = [math.nan] * n  # a column that appears late starts empty
        for key, col in self.columns.items():
            col.append(float(row.get(key, math.nan)))
        self.total += 1
        if n + 1 > self.cap:
            self._thin()

    def _thin(self) -> None:
        older = len(self) - self.recent
        for key, col in self.columns.items():
            self.columns[key] = col[:older][::2] + col[older:]

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.columns.items()}

    def last(self, key: str, default: float = math.nan) -> float:
        col = self.columns.get(key)
        return col[-1] if col else default
