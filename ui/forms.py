"""Widgets generated from ``Param`` declarations (layers, data sets, probes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from engine.i18n import t
from engine.params import Param


def param_input(p: Param, value: Any, key: str) -> Any:
    """One widget for one declared parameter, showing ``value``."""
    label, help_ = t(p.name.replace("_", " ")), t(p.help) if p.help else None
    if value is None:
        value = p.default
    if p.choices is not None:
        options = list(p.choices)
        index = options.index(value) if value in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help_)
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


def params_form(decl: Sequence[Param], values: dict[str, Any], key: str,
                columns: int = 3) -> dict[str, Any]:
    """A grid of widgets for ``decl``; returns the values as shown (defaults left out)."""
    out: dict[str, Any] = {}
    if not decl:
        return out
    cols = st.columns(min(columns, len(decl)))
    for i, p in enumerate(decl):
        with cols[i % len(cols)]:
            v = param_input(p, values.get(p.name), f"{key}-{p.name}")
        if p.name in values or v != p.default:
            out[p.name] = v
    return out
