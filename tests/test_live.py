"""The figure cache of the live views: a figure is built again only when what it shows
changed, and told apart by content when the objects are new."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from ui.live import digest


def test_a_digest_tells_content_apart_and_same_content_alike() -> None:
    a = {"step": np.arange(5.0), "names": ["x", "y"], "k": 3}
    assert digest(a) == digest({"step": np.arange(5.0), "names": ["x", "y"], "k": 3})
    for other in ({**a, "k": 4}, {**a, "step": np.arange(5.0) + 1e-12},
                  {**a, "step": np.arange(5, dtype=np.float32)},
                  {**a, "step": np.arange(5.0).reshape(5, 1)}, {**a, "names": ["x", "z"]},
                  {**a, "extra": None}):
        assert digest(other) != digest(a), other
    assert digest((1, "1")) != digest(("1", 1))
    assert digest([1.0]) != digest([1])
    assert digest(np.array(["a", None], dtype=object)) != digest(np.array(["b", None],
                                                                         dtype=object))


def _page() -> None:
    import streamlit as st

    from ui.live import cached_figure

    built = st.session_state.setdefault("built", [])
    shown = cached_figure("f", st.session_state["shows"], lambda: f"figure {len(built)}")
    if shown == f"figure {len(built)}":
        built.append(shown)
    st.write(shown)


def test_a_figure_is_built_again_only_when_what_it_shows_changed() -> None:
    at = AppTest.from_function(_page, default_timeout=30)
    at.session_state["shows"] = data = {"a": np.arange(3)}
    at.run()
    at.run()  # the same objects: nothing to build
    at.session_state["shows"] = (data, 7)
    at.run()
    at.session_state["shows"] = ({"a": np.arange(3)}, 7)  # new objects, the same content
    at.run()
    assert at.session_state["built"] == ["figure 0", "figure 1"]
    at.session_state["shows"] = ({"a": np.arange(4)}, 7)
    at.run()
    assert at.session_state["built"] == ["figure 0", "figure 1", "figure 2"]
    assert at.markdown[0].value == "figure 2" and not at.exception
