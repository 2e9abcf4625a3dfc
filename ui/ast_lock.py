"""One ``ast.parse`` at a time in the server.

Python 3.11 keeps the depth counter of its AST builder in state shared by every thread;
two threads parsing at once can trip its check with "SystemError: AST constructor
recursion depth mismatch" (CPython gh-106905). The server parses in many threads: each
session's script thread runs ``inspect.signature`` on builtins (pydantic, numpy.ma,
torch import them lazily, and it parses their text signatures) and Streamlit parses page
files for its magic. Twenty sessions opening at once raised it on a page (measured with
bench/load.py), so every parse takes one lock; they are short and rare after start-up.
"""

from __future__ import annotations

import ast
import functools
import threading
from typing import Any

_LOCK = threading.RLock()


def serialise_ast_parse() -> None:
    """Make ``ast.parse`` take a process-wide lock (once; later calls do nothing)."""
    if getattr(ast.parse, "_np_locked", False):
        return
    parse = ast.parse

    @functools.wraps(parse)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return parse(*args, **kwargs)

    locked._np_locked = True  # type: ignore[attr-defined]
    ast.parse = locked
