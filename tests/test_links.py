"""Short links: a round trip, the store's bounds, damaged ids explained, the QR code of a
link decoding to it, and ``?l=`` opening the experiment with its viewing choices."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from engine import SpecError
from engine.links import LinkStore, link_id, open_link
from engine.presets import encode_share, load_preset
from tests.apptest import open_app, session


def share(name: str = "spiral") -> str:
    return encode_share(load_preset(name))


@pytest.fixture
def links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app's store in a fresh folder (never the repository's cache)."""
    from ui.share import link_store

    monkeypatch.setenv("NP_LINKS_DIR", str(tmp_path))
    link_store.clear()
    yield tmp_path
    link_store.clear()


def decode_qr(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]


def test_a_short_link_round_trip(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    params = {"s": share(), "hide": "~np-undo.pg-lr", "step": "2"}
    key = store.put(params)
    assert len(key) == 8 and key.isalnum()
    assert store.put(dict(reversed(params.items()))) == key  # content-addressed
    assert store.get(key) == params
    exp, view = open_link(key, store)
    assert exp == load_preset("spiral") and view == {"hide": "~np-undo.pg-lr", "step": "2"}
    assert store.put({"s": share("xor_hidden")}) != key
    assert (tmp_path / "links.sqlite").exists()


def test_the_store_is_bounded_and_keeps_the_recently_used(tmp_path: Path) -> None:
    store = LinkStore(tmp_path, max_links=3)
    keys = [store.put({"s": share(n)}) for n in ("spiral", "xor_hidden", "circle")]
    store.get(keys[0])  # used: kept over the next oldest
    store.put({"s": share("sine")})
    store.put({"s": share("iris")})
    assert len(store) == 3
    assert store.get(keys[0])["s"] == share("spiral")
    with pytest.raises(SpecError, match="no short link"):
        store.get(keys[1])
    small = LinkStore(tmp_path / "bytes", max_bytes=len(share()) + 40)
    first = small.put({"s": share()})
    small.put({"s": share("xor_hidden")})
    assert len(small) == 1
    with pytest.raises(SpecError):
        small.get(first)


@pytest.mark.parametrize(("key", "words"), [
    ("ab$%", "damaged (an id is 8 to 16 letters and digits): copy the whole link again"),
    ("", "damaged"),
    ("Zz9Zz9Zz", "no short link Zz9Zz9Zz on this server"),
])
def test_a_damaged_or_unknown_id_is_one_clear_line(tmp_path: Path, key: str,
                                                   words: str) -> None:
    with pytest.raises(SpecError) as e:
        LinkStore(tmp_path).get(key)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_stored_data_is_checked_again_when_opened(tmp_path: Path) -> None:
    store = LinkStore(tmp_path)
    key = store.put({"s": share()})
    with sqlite3.connect(tmp_path / "links.sqlite") as con:  # changed behind the store's back
        con.execute("UPDATE links SET body = ? WHERE id = ?",
                    ('{"s":"np2.AAAA"}', key))
    with pytest.raises(SpecError, match="damaged on this server"):
        store.get(key)
    # What goes in is data, checked: a known key, printable text, a valid experiment.
    for bad in ({"s": share(), "code": "x"}, {"s": share(), "hide": "a b"}, {"hide": "x"},
                {"s": "np2.garbage"}):
        with pytest.raises(SpecError):
            store.put(bad)
    assert len(store) == 1 and link_id('{"s":"x"}') != link_id('{"s":"y"}')


def test_the_qr_code_decodes_to_the_link() -> None:
    from ui.share import qr_png

    link = "http://localhost:8501/train?l=AbC123xy"
    png = qr_png(link)
    assert decode_qr(png) == [link]
    assert Image.open(io.BytesIO(png)).size[0] >= 300  # large enough to project


def test_the_share_dialog_shows_the_short_link_and_its_qr_code(
        links: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.share

    drawn: list[bytes] = []
    real = ui.share.qr_png
    monkeypatch.setattr(ui.share, "qr_png", lambda text: drawn.append(real(text)) or drawn[-1])
    at = open_app("spiral")
    at.session_state["np-hide-open"] = True  # a teacher opens the panel
    at.run()
    at.sidebar.checkbox(key="np-hide-pg-lr").uncheck().run()  # and hides a control
    at.sidebar.button(key="np-share").click().run()
    assert not at.exception
    dialog = at._tree.children[2]  # the event container holds the dialog
    frames = [e.proto.srcdoc for e in dialog if getattr(e, "type", "") == "iframe"]
    shown = [f.split('value="')[1].split('"')[0] for f in frames]
    assert len(shown) == 2  # the student's link and the teacher's
    student, teacher = shown
    assert "?l=" in student and "?l=" in teacher and student != teacher
    assert decode_qr(drawn[-1]) == [student]  # the code the class scans: the student link
    # Opening the student link: the same experiment, the control hidden, no panel.
    exp, view = open_link(student.split("?l=")[1], LinkStore(links))
    assert exp == session().exp and view["hide"] == "~pg-lr"


def test_an_address_with_l_opens_the_link_and_its_viewing_choices(links: Path) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.apptest import APP

    key = LinkStore(links).put({"s": share("overfitting"), "step": "3", "hide": "~np-undo"})
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["l"] = key
    at.run()
    assert not at.exception
    assert session().exp == load_preset("overfitting")
    assert at.query_params["s"] and "l" not in at.query_params
    assert at.query_params["step"] == "3" and at.query_params["hide"] == "~np-undo"
    assert not [c for c in at.sidebar.checkbox if c.key.startswith("np-hide-")]

    st.cache_resource.clear()  # a new browser session (AppTest reuses one session id)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["l"] = "Zz9Zz9Zz"
    at.run()
    assert "no short link Zz9Zz9Zz" in " ".join(w.value for w in at.warning)
    assert session().exp == load_preset("spiral")  # the default, and nothing lost
