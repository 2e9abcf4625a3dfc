"""Declared parameters: the one place a layer or data set says what it takes.

Forms are generated from these declarations and specs are checked against
them, so a parameter's type, default, range and help live only here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.i18n import t


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
                raise ValueError(t("{name} must be true or false, got {value}", name=self.name,
                                   value=repr(value)))
            return value
        if isinstance(value, float) and not math.isfinite(value):  # JSON reads Infinity, NaN
            raise ValueError(t("{name} must be a finite number, got {value}", name=self.name,
                               value=repr(value)))
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
                raise ValueError(t("{name} must be a whole number, got {value}", name=self.name,
                                   value=repr(value)))
            value = int(value)
        elif self.kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(t("{name} must be a number, got {value}", name=self.name,
                                   value=repr(value)))
            value = float(value)
        elif self.kind is str and not isinstance(value, str):
            raise ValueError(t("{name} must be text, got {value}", name=self.name,
                               value=repr(value)))
        if self.choices is not None and value not in self.choices:
            options = ", ".join(str(c) for c in self.choices)
            raise ValueError(t("{name} must be one of {options}; got {value}", name=self.name,
                               options=options, value=repr(value)))
        lo, hi = self.min, self.max
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(t("{name} must be between {lo} and {hi}, got {value}",
                               name=self.name, lo=_fmt(lo), hi=_fmt(hi), value=repr(value)))
        return value


def _fmt(x: float | None) -> str:
    if x is None:
        return t("any")
    return str(int(x)) if float(x).is_integer() else str(x)


def resolve_params(decl: Sequence[Param], given: Mapping[str, Any]) -> tuple[dict, list[str]]:
    """Fill defaults and check ``given`` against ``decl``: (values, problems)."""
    known = {p.name: p for p in decl}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key in given:
        if key not in known:
            names = ", ".join(known) or t("none")
            problems.append(t("unknown parameter {key} (known: {names})", key=repr(key),
                              names=names))
    for p in decl:
        try:
            values[p.name] = p.check(given[p.name]) if p.name in given else p.default
        except ValueError as e:
            problems.append(str(e))
    return values, problems
