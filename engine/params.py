"""Declared parameters: the one place a layer or data set says what it takes.

Forms are generated from these declarations and specs are checked against
them, so a parameter's type, default, range and help live only here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    name: str
    kind: type  # int, float, bool, str
    default: Any
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    optional: bool = False  # None is allowed (and means "not set")
    multiline: bool = False  # a str that may hold lines (pasted text): a text area on a page

    def check(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ValueError."""
        if value is None and self.optional:
            return None
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return value
        if isinstance(value, float) and not math.isfinite(value):  # JSON reads Infinity, NaN
            raise ValueError(f"{self.name} must be a finite number, got {value!r}")
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
                raise ValueError(f"{self.name} must be a whole number, got {value!r}")
            value = int(value)
        elif self.kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{self.name} must be a number, got {value!r}")
            value = float(value)
        elif self.kind is str and not isinstance(value, str):
            raise ValueError(f"{self.name} must be text, got {value!r}")
        if self.choices is not None and value not in self.choices:
            options = ", ".join(str(c) for c in self.choices)
            raise ValueError(f"{self.name} must be one of {options}; got {value!r}")
        lo, hi = self.min, self.max
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(
                f"{self.name} must be between {_fmt(lo)} and {_fmt(hi)}, got {value!r}")
        return value


def _fmt(x: float | None) -> str:
    if x is None:
        return "any"
    return str(int(x)) if float(x).is_integer() else str(x)


def resolve_params(decl: Sequence[Param], given: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """Fill defaults and check ``given`` against ``decl``: (values, problems)."""
    known = {p.name: p for p in decl}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key in given:
        if key not in known:
            names = ", ".join(known) or "none"
            problems.append(f"unknown parameter {key!r} (known: {names})")
    for p in decl:
        try:
            values[p.name] = p.check(given[p.name]) if p.name in given else p.default
        except ValueError as e:
            problems.append(str(e))
    return values, problems
