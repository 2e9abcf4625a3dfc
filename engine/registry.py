"""A named registry: layer types, data sets, probes and tasks each keep one."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, Protocol, TypeVar

from engine.i18n import t


class Named(Protocol):
    name: str


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind  # marked with N_ by the caller: translated when a message names it
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        if item.name in self._items:
            raise ValueError(f"{self.kind} {item.name!r} is registered twice")
        self._items[item.name] = item
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(self.unknown(name)) from None

    def unknown(self, name: str) -> str:
        """The message for an unknown name, with the closest known names."""
        close = difflib.get_close_matches(str(name), self._items, n=3)
        known = ", ".join(self._items)
        if close:
            return t("unknown {kind} {name}; did you mean {close}? (known: {known})",
                     kind=t(self.kind), name=repr(name), close=", ".join(close), known=known)
        return t("unknown {kind} {name} (known: {known})", kind=t(self.kind), name=repr(name),
                 known=known)

    def sort(self, key: Callable[[T], object]) -> None:
        """Reorder the items (stable), e.g. so lists read as a course rather than in the
        order the modules happened to be imported."""
        self._items = dict(sorted(self._items.items(), key=lambda kv: key(kv[1])))

    def names(self) -> list[str]:
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)
