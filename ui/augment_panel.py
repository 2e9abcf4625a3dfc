"""Augmentation on Build: its settings, and a grid of training images as a batch sees
them, so a student can judge a change (a mirrored 7 is no longer a 7) before training."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st
from pydantic import ValidationError

from engine.augment import active, preview
from engine.i18n import t
from engine.params import Param
from engine.spec import AugmentSpec
from ui.forms import params_form

COLUMNS = 8  # images per row of the preview
TILE = 56  # about this many pixels per image side (small images enlarged in sharp blocks)
GAP = 2


def _bound(meta: list[Any], name: str) -> float | None:
    return next((getattr(m, name) for m in meta if hasattr(m, name)), None)


# The form is generated from the spec's own fields, so a new augmentation needs no page code.
PARAMS: tuple[Param, ...] = tuple(
    Param(name, f.annotation, f.default, f.description or "", min=_bound(f.metadata, "ge"),
          max=_bound(f.metadata, "le"))
    for name, f in AugmentSpec.model_fields.items())


def augment_form(values: dict[str, Any], key: str) -> dict[str, Any]:
    """The augmentation settings as the user leaves them."""
    st.markdown(t("**Augmentation** (random changes to each training batch; test images "
                  "are never changed)"))
    return params_form(PARAMS, values, key)


def mosaic(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of uint8 images [n, C, h, w] as one picture, each image enlarged to about
    TILE pixels in whole-pixel blocks, a light line between images."""
    c, h, w = rows[0].shape[1:]
    scale = max(1, round(TILE / max(h, w)))
    th, tw = h * scale, w * scale
    n = max(len(r) for r in rows)
    out = np.full((len(rows) * (th + GAP) - GAP, n * (tw + GAP) - GAP, c), 220, np.uint8)
    for i, row in enumerate(rows):
        for j, img in enumerate(row):
            big = img.transpose(1, 2, 0).repeat(scale, 0).repeat(scale, 1)
            out[i * (th + GAP):i * (th + GAP) + th, j * (tw + GAP):j * (tw + GAP) + tw] = big
    return out[..., 0] if c == 1 else out


def preview_grid(bundle: Any, values: dict[str, Any], key: str) -> None:
    """Stored training images above two random versions of each under ``values``."""
    try:
        spec = AugmentSpec(**values)
    except ValidationError:
        return  # the form's own problem is shown with the data's
    if not active(spec):
        st.caption(t("Turn on a change above to see training images with it."))
        return
    seed = st.session_state.get(key, 0)
    stored = bundle.x_train[:COLUMNS].numpy()
    rows = [stored, preview(bundle, spec, COLUMNS, seed), preview(bundle, spec, COLUMNS,
                                                                  seed + 1)]
    st.image(mosaic(rows), output_format="PNG")
    st.caption(t("Top row: training images as stored. Below: two random versions of each, "
                 "as training batches may see them."))
    if st.button(t("Other random changes"), key=f"{key}-again", icon=":material/shuffle:"):
        st.session_state[key] = seed + 2
        st.rerun()


def augment_section(data: dict[str, Any], name: str, images: bool, bundle: Any,
                    key: str) -> dict[str, Any]:
    """The data's augmentation as edited. ``name`` is the data set chosen now (``data``
    still holds the previous one on the run where the choice changes); ``images``:
    whether it is an image set. The form shows for image sets, and for any set whose
    augmentation is on (from a link), so it can be turned off; leaving for a set
    without images turns it off. ``key`` names the form's widgets."""
    values = data.get("augment") or {}
    on = any(values.get(p.name) for p in PARAMS)
    if not images and (name != data["name"] or not on):
        return {} if name != data["name"] else values
    values = augment_form(values, key)
    if images and name == data["name"] and bundle is not None and bundle.image is not None:
        preview_grid(bundle, values, "build-aug-seed")
    return values
