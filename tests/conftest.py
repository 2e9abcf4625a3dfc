"""Shared test set-up."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def fresh_streamlit_sessions() -> Iterator[None]:
    """AppTest gives every app the same session id, so session-scoped resources (our
    Session and its trainer) would leak from one test into the next. Clearing the
    resource cache releases them, which also stops their trainers."""
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_resource.clear()
