"""Widgets generated from ``Param`` declarations (layers, data sets, probes).

A declaration gives the widget (int/float: number box with its range, bool:
check box, choices: select box, str: text box), its label and its help, so a
new layer type or data set needs no page code.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import streamlit as st

from engine.i18n import N_, t
from engine.params import Param
from ui.names import shown as word

# Widths in pixels. Fields sit in rows that wrap, so a narrow window (a projector at
# 1024 px with the sidebar open) gets fewer fields per row instead of cut labels and values.
FIELD = 170
WIDE = 220  # a choice box whose words are long ("mean squared error")
# Parameter names that read badly with only their underscores removed.
LABELS = {"n_samples": N_("Points"), "train_ratio": N_("Training share"),
          "max_rows": N_("Most rows"), "p": N_("Drop probability"),
          "kernel_size": N_("Kernel size"), "dim": N_("Width"),
          "vocab_size": N_("Vocabulary size")}


def label_of(p: Param) -> str:
    words = p.name.replace("_", " ")
    text = LABELS.get(p.name, words[:1].upper() + words[1:])
    return t(text)


def param_input(p: Param, value: Any, key: str, options: Sequence[Any] | None = None,
                format_func: Callable[[Any], str] = word, width: int = FIELD) -> Any:
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
                            format_func=format_func, width=max(width, WIDE))
    if p.kind is bool:
        return st.checkbox(label, bool(value), key=key, help=help_)
    if p.kind is int:
        return int(st.number_input(label, value=int(value), step=1, key=key, help=help_,
                                   width=width,
                                   min_value=None if p.min is None else int(p.min),
                                   max_value=None if p.max is None else int(p.max)))
    if p.kind is float:
        return float(st.number_input(label, value=float(value), key=key, help=help_,
                                     width=width,
                                     min_value=None if p.min is None else float(p.min),
                                     max_value=None if p.max is None else float(p.max),
                                     format="%g"))
    if p.multiline:
        return text_with_upload(label, str(value), key, help_)
    return st.text_input(label, str(value), key=key, help=help_, width=max(width, WIDE))


def params_form(decl: Sequence[Param], values: Mapping[str, Any], key: str,
                options: Mapping[str, Sequence[Any]] | None = None,
                formats: Mapping[str, Callable[[Any], str]] | None = None,
                hidden: Collection[str] = ()) -> dict[str, Any]:
    """A row of widgets for ``decl`` that wraps when narrow; returns the values as shown.

    A parameter left at its default and not given in ``values`` stays out of the
    result, so a spec keeps only what the user set. ``hidden`` parameters get no
    widget and keep their value (a file path the page sets itself)."""
    out = {name: values[name] for name in hidden if name in values}
    shown = [p for p in decl if p.name not in hidden]
    if not shown:
        return out
    options, formats = options or {}, formats or {}
    row = st.container(horizontal=True, vertical_alignment="bottom")
    for p in shown:
        with row:
            v = param_input(p, values.get(p.name), f"{key}-{p.name}", options.get(p.name),
                            formats.get(p.name, word))
        if p.name in values or v != p.default:
            out[p.name] = v
    return out


MAX_TEXT_FILE = 1_000_000  # bytes: a text file larger than this is refused before decoding
# UTF-8 first; GB18030 reads the Chinese files that are not UTF-8 (it covers GBK and GB2312).
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text_file(raw: bytes, name: str) -> str:
    """An uploaded text file's text; a ValueError names the file and the fix."""
    if len(raw) > MAX_TEXT_FILE:
        raise ValueError(t("{name} is {size} MB; a text file may be at most 1 MB. Upload a "
                           "shorter extract.", name=name, size=f"{len(raw) / 1e6:.1f}"))
    for encoding in TEXT_ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(t("{name} is not a text file in UTF-8 or GB18030; save it as UTF-8 "
                       "text and upload it again.", name=name))


def text_with_upload(label: str, value: str, key: str, help_: str | None) -> str:
    """A text area, and a file whose text replaces what it holds (once per file)."""
    upload = st.session_state.get(f"{key}-file")
    if upload is not None and st.session_state.get(f"{key}-file-done") != upload.file_id:
        st.session_state[f"{key}-file-done"] = upload.file_id
        try:
            st.session_state[key] = decode_text_file(upload.getvalue(), upload.name)
        except ValueError as e:  # the text area keeps what it had
            st.session_state[f"{key}-file-error"] = str(e)
    # A value already in the session (typed or uploaded) is the widget's own.
    text = (st.text_area(label, key=key, help=help_) if key in st.session_state
            else st.text_area(label, value, key=key, help=help_))
    st.file_uploader(t("Or upload a text file"), type=["txt", "md", "csv"], key=f"{key}-file",
                     help=t("Plain text in UTF-8 (or GB18030 for Chinese), at most 1 MB."))
    error = st.session_state.pop(f"{key}-file-error", None)
    if error:
        st.error(error, icon=":material/error:")
    return text
