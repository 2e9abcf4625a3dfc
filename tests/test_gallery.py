"""The Gallery page: a card per preset in course order, search and topic filters that
narrow the cards, one click opening a preset on its page; and the card pictures."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from engine.course import TOPICS, course_entries, page_for, preset_title, presets_in_course_order
from engine.presets import PRESET_DIR, load_preset
from engine.spec import Experiment
from tests.apptest import open_app, session
from viz.thumbnail import HEIGHT, WIDTH, cached_thumbnail, preset_thumbnail, thumbnail_key

GALLERY = "views/gallery.py"
OPEN = "np-gallery-open-"


def shown(at) -> list[str]:  # noqa: ANN001
    """The presets whose cards are on the page, top to bottom."""
    return [b.key[len(OPEN):] for b in at.button if (b.key or "").startswith(OPEN)]


@pytest.fixture(scope="module")
def gallery():  # noqa: ANN201
    at = open_app("spiral")
    at.switch_page(GALLERY).run()
    assert not at.exception, at.exception
    return at


def test_every_preset_has_a_card_in_course_order(gallery) -> None:  # noqa: ANN001
    assert shown(gallery) == presets_in_course_order()
    titles = [m.value.strip("*") for m in gallery.main.markdown if m.value.startswith("**")]
    assert titles == [preset_title(n) for n in presets_in_course_order()]
    captions = [c.value for c in gallery.main.caption]
    assert "Section 4: Keeping training healthy · Intermediate" in captions
    # One line each: the description's first sentence.
    assert "A GRU reads windows of 32 characters of Aesop's fables and predicts the next " \
           "character at every position; it then writes text of its own." in captions
    assert len(gallery.main.get("image")) == len(shown(gallery))


def test_search_narrows_the_cards(gallery) -> None:  # noqa: ANN001
    gallery.text_input(key="np-gallery-search").input("dropout").run()
    names = shown(gallery)
    assert "overfitting_dropout" in names and "cnn_alexnet" in names
    assert "spiral" not in names and "seq_text_gru" not in names
    assert names == [n for n in presets_in_course_order() if n in names]  # still in order
    assert f"{len(names)} of {len(presets_in_course_order())} presets" in [
        c.value for c in gallery.caption]
    gallery.text_input(key="np-gallery-search").input("dropout cure").run()
    assert shown(gallery) == ["overfitting", "overfitting_dropout"]  # every word must match
    gallery.text_input(key="np-gallery-search").input("zzzz nothing").run()
    assert shown(gallery) == []
    assert "No preset matches" in gallery.info[0].value
    gallery.text_input(key="np-gallery-search").input("").run()
    assert shown(gallery) == presets_in_course_order()


def test_the_topic_filter_narrows_the_cards(gallery) -> None:  # noqa: ANN001
    pills = gallery.button_group(key="np-gallery-topics")
    assert pills.options == [TOPICS[k] for k in TOPICS] or len(pills.options) == len(TOPICS)
    pills.set_value(["attention"]).run()
    expected = [n for n, e in course_entries().items() if "attention" in e.topics]
    assert shown(gallery) == expected and "seq_reverse_transformer" in expected
    gallery.button_group(key="np-gallery-topics").set_value(["attention", "regression"]).run()
    assert "sine" in shown(gallery) and "seq_attention_dot" in shown(gallery)
    gallery.text_input(key="np-gallery-search").input("sort").run()
    assert shown(gallery) == ["seq_sort_transformer"]
    gallery.text_input(key="np-gallery-search").input("").run()
    gallery.button_group(key="np-gallery-topics").set_value([]).run()
    assert shown(gallery) == presets_in_course_order()


@pytest.mark.parametrize(("name", "title"), [("cnn_lenet", "Vision"),
                                             ("seq_reverse_gru", "Sequences"),
                                             ("iris", "Train")])
def test_opening_a_card_opens_the_preset_on_its_page(name: str, title: str) -> None:
    at = open_app("spiral")
    at.switch_page(GALLERY).run()
    at.button(key=OPEN + name).click().run()
    assert not at.exception, at.exception
    assert session().exp == load_preset(name)
    assert session().origin == load_preset(name)  # opened, not edited: its lesson shows
    assert [x.value for x in at.title][:1] == [title]


def test_each_kind_of_data_opens_on_the_page_that_draws_it() -> None:
    pages = {n: page_for(load_preset(n)) for n in ("spiral", "sine", "lr_too_large",
                                                   "cnn_resnet", "seq_text_gru",
                                                   "seq_adding_lstm", "iris")}
    assert pages == {"spiral": "playground", "sine": "playground",
                     "lr_too_large": "playground", "cnn_resnet": "vision",
                     "seq_text_gru": "sequences", "seq_adding_lstm": "sequences",
                     "iris": "train"}


def _pixels(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    assert img.size == (WIDTH, HEIGHT)
    return img.convert("RGB")


def test_a_thumbnail_is_drawn_from_the_preset_s_own_data_and_model(tmp_path) -> None:  # noqa: ANN001
    spiral, moons = load_preset("spiral"), load_preset("vanishing_sigmoid")
    a, b = _pixels(preset_thumbnail(spiral)), _pixels(preset_thumbnail(moons))
    assert a.tobytes() != b.tobytes()
    # The data panel holds the two classes' colours (orange and blue points).
    colours = {c for _, c in a.crop((6, 6, 114, 114)).getcolors(100_000)}
    assert (245, 147, 34) in colours and (8, 119, 189) in colours
    # The layer sketch has one bar per node: ten for the ten-layer network, three for the
    # spiral's.
    def bars(img: Image.Image) -> int:
        row = [img.getpixel((x, HEIGHT // 2)) for x in range(126, WIDTH)]
        return sum(1 for i in range(1, len(row)) if row[i] != row[i - 1] and
                   row[i - 1] == (250, 250, 251))
    assert bars(a) == 3 and bars(b) == 10
    # A different lesson, the same picture (and the same cached file); other data, another.
    relabelled = spiral.replace(meta={"name": "Mine", "lesson": "other words"})
    assert thumbnail_key(relabelled) == thumbnail_key(spiral)
    assert cached_thumbnail(spiral, tmp_path) == cached_thumbnail(relabelled, tmp_path)
    assert len(list(tmp_path.iterdir())) == 1
    noisier = json.loads((PRESET_DIR / "spiral.json").read_text(encoding="utf-8"))
    noisier["data"]["params"]["noise"] = 0.5
    assert thumbnail_key(Experiment.model_validate(noisier)) != thumbnail_key(spiral)


@pytest.mark.parametrize("name", ["cnn_lenet", "seq_text_gru", "seq_adding_rnn", "sine"])
def test_every_kind_of_data_gets_a_picture(name: str) -> None:
    img = _pixels(preset_thumbnail(load_preset(name)))
    counts = sorted(n for n, _ in img.crop((8, 8, 112, 112)).getcolors(100_000))
    assert len(counts) >= 2 and sum(counts[:-1]) > 200, name  # the panel is not empty
