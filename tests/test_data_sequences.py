"""Generated sequence sets and character-level text: seeds, targets, windows, vocabularies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data import DATASETS, load_data
from engine.data.sequences import SYMBOLS
from engine.data.text import MAX_OWN_CHARS, UNKNOWN, decode, shipped_text, token_label
from engine.errors import SpecError
from engine.spec import DataSpec

SEQUENCE_SETS = [d.name for d in DATASETS if d.category in ("sequence", "text")]


def load(name: str, seed: int = 0, **params: object):  # noqa: ANN201
    return load_data(DataSpec(name=name, params=params, seed=seed))


def test_the_sequence_sets_are_registered() -> None:
    assert {"copy", "reverse", "sort", "parity", "count", "addition", "adding",
            "sine_forecast", "text"} <= set(SEQUENCE_SETS)


@pytest.mark.parametrize("name", SEQUENCE_SETS)
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    a, b, c = load(name, 3, n_samples=60), load(name, 3, n_samples=60), load(name, 4,
                                                                             n_samples=60)
    for f in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, f), getattr(b, f))
    assert not torch.equal(a.x_train, c.x_train)
    assert (len(a.x_train), len(a.x_test)) == (round(60 * DATASETS.get(name).params[-1].default),
                                               60 - len(a.x_train))


@pytest.mark.parametrize("name", ["copy", "reverse", "sort", "parity", "count", "addition",
                                  "text"])
def test_token_sets_give_ids_inside_their_vocabulary(name: str) -> None:
    b = load(name)
    assert b.x_train.dtype == torch.int64 and b.y_train.dtype == torch.int64
    assert b.vocab and int(b.x_train.min()) >= 0 and int(b.x_train.max()) < len(b.vocab)
    assert int(b.y_train.max()) < len(b.class_names) == b.n_outputs


def test_copy_reverse_and_sort_targets() -> None:
    x = load("copy", length=7, vocab_size=5).x_train
    assert torch.equal(load("copy", length=7, vocab_size=5).y_train, x)
    r = load("reverse", length=7, vocab_size=5)
    assert r.x_train.shape == (1600, 7) and int(r.x_train.max()) == 4
    assert torch.equal(r.y_train, r.x_train.flip(1))
    row, target = r.x_train[0].tolist(), r.y_train[0].tolist()
    assert target == row[::-1]
    s = load("sort", length=9, vocab_size=20)
    assert torch.equal(s.y_train, s.x_train.sort(1).values)
    assert s.vocab == tuple(SYMBOLS[:20]) and s.class_names == s.vocab


def test_parity_and_count() -> None:
    p = load("parity", length=12)
    assert p.y_train.shape == (1600,) and p.class_names == ("even", "odd")
    assert torch.equal(p.y_train, p.x_train.sum(1) % 2)
    c = load("count", length=10, vocab_size=3)
    assert torch.equal(c.y_train, (c.x_train == 1).sum(1))
    assert c.class_names == tuple(str(i) for i in range(11))


@pytest.mark.parametrize("target_length", ["input", "sum"])
def test_addition_targets_are_the_digits_of_the_sum(target_length: str) -> None:
    b = load("addition", digits=4, target_length=target_length)
    assert b.vocab == (*"0123456789", "+") and b.class_names == tuple("0123456789")
    assert b.x_train.shape[1] == 9
    assert b.y_train.shape[1] == (9 if target_length == "input" else 5)
    for x, y in zip(b.x_train[:50], b.y_train[:50], strict=True):
        text = decode(x, b.vocab)
        a, c = text.split("+")
        assert len(a) == len(c) == 4
        assert int(decode(y, b.class_names)) == int(a) + int(c)
    # Carries happen: some sums need the fifth digit.
    assert (b.y_train[:, -5] == 1).any()


@pytest.mark.parametrize("length", [10, 200])
def test_adding_problem_targets_are_the_marked_sum(length: int) -> None:
    b = load("adding", length=length, n_samples=300)
    x, y = b.x_train, b.y_train
    assert x.shape == (240, length, 2) and y.shape == (240, 1) and b.kind == "regression"
    markers = x[:, :, 1]
    assert torch.equal(markers.sum(1), torch.full((240,), 2.0))
    half = length // 2
    assert torch.equal(markers[:, :half].sum(1), torch.ones(240))  # one marker per half
    assert torch.allclose((x[:, :, 0] * markers).sum(1, keepdim=True), y)
    assert float(x[:, :, 0].min()) >= 0 and float(x[:, :, 0].max()) <= 1


def test_sine_forecast_continues_the_wave() -> None:
    b = load("sine_forecast", length=20, horizon=4, noise=0.0, n_samples=50)
    x, y = b.x_train[:, :, 0].double(), b.y_train.double()
    assert b.x_train.shape == (40, 20, 1) and b.y_train.shape == (40, 4)
    # A pure sine obeys s[t+1] = 2 cos(w) s[t] - s[t-1]; the targets follow the same
    # recurrence as the window they continue.
    whole = torch.cat([x, y], 1)
    c = ((whole[:, 2:20] + whole[:, :18]) * whole[:, 1:19]).sum(1) / (
        2 * (whole[:, 1:19] ** 2).sum(1))
    pred = 2 * c[:, None] * whole[:, 20:23] - whole[:, 19:22]
    assert torch.allclose(pred, whole[:, 21:24], atol=1e-5)
    noisy = load("sine_forecast", length=20, horizon=4, noise=0.3, n_samples=50)
    assert torch.allclose(noisy.y_train, b.y_train)  # noise only on what the model sees
    assert not torch.allclose(noisy.x_train, b.x_train)


# Character-level text ------------------------------------------------------------------------

def test_text_windows_are_the_text_and_targets_the_next_characters() -> None:
    b = load("text", source="aesop", length=16, n_samples=300)
    text = shipped_text("aesop")
    assert b.x_train.shape == b.y_train.shape == (270, 16)
    assert torch.equal(b.y_train[:, :-1], b.x_train[:, 1:])
    cut = round(len(text) * 0.9)
    for x, y in zip(b.x_train[:20], b.y_train[:20], strict=True):
        window = decode(x, b.vocab) + decode(y[-1:], b.vocab)
        assert window in text[:cut]
    for x in b.x_test[:20]:
        assert decode(x, b.vocab) in text[cut:]
    assert b.vocab == tuple(sorted(set(text))) and b.class_names == b.vocab
    assert "Source" not in text[:20]  # the source line is not part of the text


def test_chinese_text_and_the_vocabulary_cap() -> None:
    full = load("text", source="daodejing", length=8)
    text = shipped_text("daodejing")
    assert UNKNOWN not in full.vocab and set(full.vocab) == set(text)
    assert "道" in full.vocab and not full.notes
    capped = load("text", source="daodejing", length=8, max_vocab=50)
    assert len(capped.vocab) == 50 and capped.vocab[-1] == UNKNOWN
    assert "道" in capped.vocab  # a frequent character is kept
    assert capped.notes and UNKNOWN in capped.notes[0]
    unknown = capped.vocab.index(UNKNOWN)
    assert (capped.x_train == unknown).any()
    assert load("text", source="lunyu", length=8).vocab


def test_own_text_any_unicode() -> None:
    own = "Ünïcödé 😀 テキスト 中文!\r\n" * 40
    b = load("text", source="own", text=own, length=10, n_samples=100)
    assert "😀" in b.vocab and "テ" in b.vocab and "\r" not in b.vocab
    assert torch.equal(b.y_train[:, :-1], b.x_train[:, 1:])
    assert decode(b.x_train[0], b.vocab) in own.replace("\r\n", "\n")


@pytest.mark.parametrize(("text", "words"), [
    ("", "no text"),
    ("   \n", "no text"),
    ("x" * (MAX_OWN_CHARS + 1), "limit"),
    ("short text", "at least"),
])
def test_own_text_is_checked(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        load("text", source="own", text=text, length=8)


def test_own_text_at_the_cap_loads() -> None:
    text = "".join(chr(0x4E00 + i % 300) for i in range(MAX_OWN_CHARS))
    b = load("text", source="own", text=text, length=8, n_samples=50, max_vocab=100)
    assert len(b.vocab) == 100 and b.vocab[-1] == UNKNOWN


def test_whitespace_tokens_have_visible_labels() -> None:
    assert [token_label(c) for c in "a \n"] == ["a", "␣", "⏎"]
    assert np.all([token_label(c) == c for c in "道+7"])
