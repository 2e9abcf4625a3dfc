"""Shared test set-up."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.quiet import close_room, open_room, room

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Two workers share the machine's cores: each trains on one, so neither's threads spin
    # waiting for the other's (the app servers the browser tests start get them all).
    os.environ["NP_CORES"] = str(max(1, len(os.sched_getaffinity(0)) // 2))
    import torch

    torch.set_num_threads(int(os.environ["NP_CORES"]))


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the run itself, before its workers start
        open_room()


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        close_room()


@pytest.fixture(autouse=True)
def share_the_machine(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked ``alone`` measure the machine, so the other worker waits for them."""
    with room(alone=request.node.get_closest_marker("alone") is not None):
        yield


@pytest.fixture(autouse=True)
def fresh_streamlit_sessions() -> Iterator[None]:
    """AppTest gives every app the same session id, so session-scoped resources (our
    Session and its trainer) would leak from one test into the next. Clearing the
    resource cache releases them, which also stops their trainers."""
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_resource.clear()
    # An app run in this process confines CSV reads to its upload folder; the engine's
    # own default (any path) comes back for the next test.
    from engine.data import csv_file

    csv_file.ALLOWED_DIRS = None


def build_spec(nodes: list[dict] | None = None, *, data: str = "xor",
               data_params: dict | None = None, probes: list[dict] | None = None,
               **train: object) -> dict:
    """A small experiment dict: 100 xor points, a tanh MLP, CPU, no probes.

    Keyword arguments become ``train`` fields (``epochs=3``, ``optimizer={...}``)."""
    return {
        "schema": 1,
        "data": {"name": data, "params": {"n_samples": 100, **(data_params or {})}},
        "model": {"nodes": nodes if nodes is not None else [
            {"id": "h1", "type": "linear", "params": {"units": 8, "activation": "tanh"}},
            {"id": "out", "type": "linear", "params": {"units": 2}},
        ]},
        "train": {"device": "cpu", "epochs": 5, **train},
        "probes": probes if probes is not None else [],
    }


@pytest.fixture
def spec():  # noqa: ANN201
    """The ``build_spec`` factory."""
    return build_spec
