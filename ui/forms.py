"""Widgets generated from ``Param`` declarations (layers, data sets, probes).

A declaration gives the widget (int/float: number box with its range, bool:
check box, choices: select box, str: text box), its label and its help, so a
new layer type or data set needs no page code.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import streamlit as st

from engine.i18n import t
from engine.params import Param


def label_of(p: Param) -> str:
    return t(p.name.replace("_", " "))


def param_input(p: Param, value: Any, key: str, options: Sequence[Any] | None = None,
                format_func: Callable[[Any], str] = str) -> Any:
    """One widget for one declared parameter, showing ``value``.

    ``options`` offers a list of values the page knows better than the declaration
    (a CSV file's columns for ``target``)."""
    label, help_ = label_of(p), t(p.help) if p.help else None
    if value is None:
        value = p.default
    choices = options if options is not None else p.choices
    if choices is not None:
        shown = list(choices)
        if value not in shown:  # keep a value the list lacks visible, not silently replaced
            shown.insert(0, value)
        return st.selectbox(label, shown, index=shown.index(value), key=key, help=help_,
                            format_func=format_func)
    if p.kind is bool:
        return st.checkbox(label, bool(value), key=key, help=help_)
    if p.kind is int:
        return int(st.number_input(label, value=int(value), step=1, key=key, help=help_,
                                   min_value=None if p.min is None else int(p.min),
                                   max_value=None if p.max is None else int(p.max)))
    if p.kind is float:
        return float(st.number_input(label, value=float(value), key=key, help=help_,
                                     min_value=None if p.min is None else float(p.min),
                                     max_value=None if p.max is None else float(p.max),
                                     format="%g"))
    return st.text_input(label, str(value), key=key, help=help_)


def params_form(decl: Sequence[Param], values: Mapping[str, Any], key: str,
                columns: int = 3, options: Mapping[str, Sequence[Any]] | None = None,
                formats: Mapping[str, Callable[[Any], str]] | None = None,
                hidden: Collection[str] = ()) -> dict[str, Any]:
    """A grid of widgets for ``decl``; returns the values as shown.

    A parameter left at its default and not given in ``values`` stays out of the
    result, so a spec keeps only what the user set. ``hidden`` parameters get no
    widget and keep their value (a file path the page sets itself)."""
    out = {name: values[name] for name in hidden if name in values}
    shown = [p for p in decl if p.name not in hidden]
    if not shown:
        return out
    options, formats = options or {}, formats or {}
    cols = st.columns(min(columns, len(shown)))
    for i, p in enumerate(shown):
        with cols[i % len(cols)]:
            v = param_input(p, values.get(p.name), f"{key}-{p.name}", options.get(p.name),
                            formats.get(p.name, str))
        if p.name in values or v != p.default:
            out[p.name] = v
    return out
