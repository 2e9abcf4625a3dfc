"""Augmentation: each change does what it says, is seeded, and leaves test data alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.augment import active, augment_batch, preview
from engine.data import load_data
from engine.spec import AugmentSpec, DataSpec


def batch(b: int = 64, c: int = 2, h: int = 12, w: int = 10) -> torch.Tensor:
    return torch.randn(b, c, h, w, generator=torch.Generator().manual_seed(7))


def run(x: torch.Tensor, seed: int = 0, **spec: object) -> torch.Tensor:
    return augment_batch(x, AugmentSpec(**spec), torch.Generator().manual_seed(seed))


def test_nothing_on_is_the_identity_and_inactive() -> None:
    x = batch()
    assert not active(AugmentSpec()) and run(x) is x
    assert active(AugmentSpec(cutout=3)) and active(AugmentSpec(rotate=5.0))


def test_flip_mirrors_some_images_exactly_and_leaves_the_rest() -> None:
    x = batch()
    y = run(x, flip=True)
    mirrored = [bool(torch.equal(y[i], x[i].flip(-1))) for i in range(len(x))]
    kept = [bool(torch.equal(y[i], x[i])) for i in range(len(x))]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 16 < sum(mirrored) < 48  # about half


def test_shift_moves_content_by_whole_pixels_and_pads_with_zero() -> None:
    x = torch.zeros(200, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0  # one bright pixel in the middle
    y = run(x, shift=2)
    assert torch.allclose(y.sum((1, 2, 3)), torch.ones(200), atol=1e-5)  # moved, not blurred
    where = y[:, 0].flatten(1).argmax(1)
    dy, dx = where // 9 - 4, where % 9 - 4
    assert dy.abs().max() == 2 and dx.abs().max() == 2
    assert len(set(zip(dy.tolist(), dx.tolist(), strict=True))) > 15  # every offset is used
    # Content shifted out is gone, and what comes in is zero (the mean colour).
    ones = run(torch.ones(200, 1, 9, 9), shift=2)
    moved = (ones < 0.5).flatten(1).any(1)
    assert moved.float().mean() > 0.5 and ones.min() == pytest.approx(0, abs=1e-6)


def test_rotation_turns_about_the_centre() -> None:
    x = torch.zeros(50, 1, 21, 21)
    x[:, 0, 10, 2:19] = 1.0  # a horizontal bar through the centre
    y = run(x, rotate=45.0)
    assert torch.allclose(y[:, 0, 10, 10], torch.ones(50), atol=1e-5)  # the centre stays
    # The bar tilts: some rows above and below the middle get ink.
    assert (y[:, 0, :8].flatten(1).sum(1) > 0.5).float().mean() > 0.5
    small = run(x, rotate=1.0)
    assert (small - x).abs().max() < 0.5


def test_cutout_zeroes_one_square_inside_each_image() -> None:
    x = torch.ones(100, 3, 16, 16)
    y = run(x, cutout=5)
    for img in y:
        hole = (img == 0).all(0)
        assert torch.equal((img == 0), hole.expand_as(img))  # all channels
        rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
        assert hole.sum() == 25 and len(rows) == len(cols) == 5
        assert rows.max() - rows.min() == 4 and cols.max() - cols.min() == 4
    big = run(torch.ones(4, 1, 6, 6), cutout=32)  # a side larger than the image: all of it
    assert big.abs().max() == 0


def test_noise_has_the_asked_spread() -> None:
    x = torch.zeros(64, 3, 16, 16)
    y = run(x, noise=0.3)
    assert float(y.std()) == pytest.approx(0.3, rel=0.05) and abs(float(y.mean())) < 0.01


def test_same_seed_same_result_and_input_untouched() -> None:
    x = batch()
    before = x.clone()
    spec = dict(flip=True, shift=2, rotate=15.0, noise=0.1, cutout=4)
    a, b, c = run(x, 3, **spec), run(x, 3, **spec), run(x, 4, **spec)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(x, before) and a.shape == x.shape and a.dtype == x.dtype
    # One generator drawn twice gives two different batches (training sees new changes).
    gen = torch.Generator().manual_seed(3)
    first = augment_batch(x, AugmentSpec(**spec), gen)
    assert torch.equal(first, a) and not torch.equal(augment_batch(x, AugmentSpec(**spec), gen),
                                                     a)


def test_preview_gives_pixels_of_augmented_training_images() -> None:
    bundle = load_data(DataSpec(name="digits", params={"size": 16}))
    plain = preview(bundle, AugmentSpec(), n=8)
    assert plain.dtype == np.uint8 and plain.shape == (8, 1, 16, 16)
    assert np.abs(plain.astype(int) - bundle.x_train[:8].numpy()).max() <= 1
    spec = AugmentSpec(flip=True, cutout=6)
    a, b = preview(bundle, spec, n=8, seed=1), preview(bundle, spec, n=8, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, plain)
    assert not np.array_equal(a, preview(bundle, spec, n=8, seed=2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_the_gpu_everything_stays_there() -> None:
    x = batch().cuda()
    gen = torch.Generator(device="cuda").manual_seed(0)
    y = augment_batch(x, AugmentSpec(flip=True, shift=2, rotate=10.0, noise=0.1, cutout=3), gen)
    assert y.device == x.device and y.shape == x.shape


def digits_experiment(**augment: object) -> dict:
    return {"schema": 1,
            "data": {"name": "digits", "params": {"per_class": 20}, "augment": augment},
            "model": {"nodes": [{"id": "flat", "type": "flatten"},
                                {"id": "out", "type": "linear", "params": {"units": 10}}]},
            "train": {"epochs": 10, "batch_size": 20,
                      "optimizer": {"name": "adam", "lr": 0.01}}}


@pytest.mark.slow
def test_training_sees_augmented_batches_and_evaluation_the_real_test_images() -> None:
    from engine import Trainer, load_experiment

    # Cutout larger than the image blanks every training image: nothing can be learned,
    # yet evaluation must still score the real test images.
    blank = Trainer(load_experiment(digits_experiment(cutout=32)))
    blank.run(epochs=10)
    plain = Trainer(load_experiment(digits_experiment()))
    plain.run(epochs=10)
    blank.model.eval()
    with torch.no_grad():
        direct = blank.model(blank.x_test)
    assert torch.allclose(blank.test_outputs, direct, atol=1e-5)
    assert blank.test_outputs.std(0).max() > 0  # real, varied images, not blank squares
    # Every blank training image has the same input, so the model never learns to tell
    # the digits apart, while the same run without augmentation does.
    accuracy = [float((t.test_outputs.argmax(1) == t.y_test).float().mean())
                for t in (blank, plain)]
    assert accuracy[0] < 0.3 < 0.6 < accuracy[1]


def open_build(preset: str):  # noqa: ANN201 - AppTest
    from streamlit.testing.v1 import AppTest

    from tests.test_build import PAGE

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = preset
    at.run()
    assert not at.exception, at.exception
    return at


def key(at, name: str) -> str:  # noqa: ANN001
    from tests.test_build import key as build_key

    return build_key(at, name)


def images_shown(at) -> int:  # noqa: ANN001
    return len(at.get("image"))


@pytest.mark.slow
def test_build_sets_augmentation_and_previews_it_on_an_image_set() -> None:
    from tests.apptest import session

    at = open_build("cnn_lenet")
    assert images_shown(at) == 0  # nothing on: no preview, a hint instead
    assert any("Turn on a change" in c.value for c in at.caption)
    at.checkbox(key=key(at, "aug-flip")).check().run()
    assert not at.exception, at.exception
    assert session().exp.data.augment.flip and session().draft is None
    assert images_shown(at) == 1
    at.number_input(key=key(at, "aug-cutout")).set_value(6).run()
    assert session().exp.data.augment.cutout == 6 and images_shown(at) == 1
    at.button(key="build-aug-seed-again").click().run()  # other random changes
    assert not at.exception, at.exception
    assert images_shown(at) == 1
    # A set without images takes augmentation away in the same edit.
    at.selectbox(key=key(at, "data")).set_value("spiral").run()
    assert not at.exception, at.exception
    exp = session().draft or session().exp.to_dict()
    assert exp["data"]["name"] == "spiral" and not any(exp["data"]["augment"].values())
    assert images_shown(at) == 0
    assert not [w for w in at.checkbox if w.key.endswith("aug-flip")]


@pytest.mark.slow
def test_build_with_no_image_set_shows_no_augmentation() -> None:
    at = open_build("xor_hidden")
    assert not [w for w in at.checkbox if w.key.endswith("aug-flip")]
    assert not at.exception
