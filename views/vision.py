"""Vision: what an image classifier sees and says, live while it trains.

Test images with their predictions, the confusion matrix and the most confidently
wrong; for one chosen image (a test image, a drawing or an upload) the feature maps of
every convolution, pooling and activation node, the class probabilities and the pixels
that decided the answer; the learned filters. The page only chooses what the trainer
looks at (``Trainer.set_focus``); the vision probes compute, viz/vision.py draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from engine.data import DATASETS
from engine.i18n import N_, t
from engine.trainer import Snapshot, Trainer
from engine.vision import conv_nodes, is_image, map_nodes
from ui.controls import progress, run_controls
from ui.drawing import drawing_canvas, enlarged, upload_box
from ui.inline_image import inline_image
from ui.live import ACTIVE, cached_figure, live
from ui.offer import offer_preset
from ui.session import Session, current
from viz.vision import (
    confidence_text,
    confusion_matrix,
    feature_map_grid,
    filter_grid,
    image_grid,
    probability_bars,
    saliency_figures,
)

LESSON_PRESET = "cnn_lenet"  # the preset a page offers when its views do not apply
SOURCES = {"test": N_("A test image"), "draw": N_("Draw a digit"), "upload": N_("Upload a picture")}
FOCUS_PROBES = ("feature_maps", "saliency")  # they look at the chosen image
VIEWS = (N_("Test images"), N_("Feature maps"), N_("Filters"), N_("Saliency"))
SCALES = {"shared": N_("One scale per layer"), "channel": N_("One scale per channel")}


# what applies to this experiment ----------------------------------------------------------

def images_in(trainer: Trainer) -> bool:
    """The data are pictures and the model takes them as pictures."""
    return trainer.data.image is not None and is_image(tuple(trainer.plan.input_shape))


def has_maps(trainer: Trainer) -> bool:
    return bool(map_nodes(trainer.plan))


def has_convolution(trainer: Trainer) -> bool:
    return bool(conv_nodes(trainer.model))


# choosing the image --------------------------------------------------------------------------

def choose_image(trainer: Trainer, snap: Snapshot) -> dict[str, Any]:
    """The source and the image the user chose, as the focus the trainer should have."""
    source = st.radio(t("Look at"), list(SOURCES), format_func=lambda s: t(SOURCES[s]),
                      horizontal=True, key="vision-source")
    shape = tuple(trainer.data.input_shape)
    index = int(trainer.focus["index"])
    if source == "test":
        n = len(trainer.x_test)
        # Held in the session, not as the box's default: the grid shortcut sets it too.
        # Another experiment may have fewer test images than the number kept.
        st.session_state["vision-index"] = min(st.session_state.get("vision-index", index),
                                               n - 1)
        index = int(st.number_input(t("Test image number (0 to {last})", last=n - 1), 0,
                                    n - 1, key="vision-index"))
        pick_from_grid(trainer, snap)
        return {"index": index, "image": None}
    image = (drawing_canvas(shape, "vision-canvas") if source == "draw"
             else upload_box(shape, "vision-upload"))
    if image is None:
        st.caption(t("Nothing to look at yet: the views show test image {i} meanwhile.",
                     i=index) if source == "draw" else t("Choose a picture file."))
        return {"index": index, "image": None}
    return {"index": index, "image": image}


def pick_from_grid(trainer: Trainer, snap: Snapshot) -> None:
    """A shortcut to the pictures below: the grid's and the most confidently wrong."""
    found = snap.probes.get("predictions")
    if not found:
        return
    names = found["class_names"]
    true = {int(i): int(c) for i, c in zip(found["indices"], found["true"], strict=True)}
    taken = {int(i): int(c) for i, c in zip(found["wrong"], found["wrong_pred"], strict=True)}
    y = trainer.data.y_test
    true |= {i: int(y[i]) for i in taken}

    def picked() -> None:
        choice = st.session_state["vision-pick"]
        if choice is not None:
            st.session_state["vision-index"] = choice
            # Empty again: the next evaluation may take this image off the list.
            st.session_state["vision-pick"] = None

    def words(i: int) -> str:
        if i in taken:
            return t("No. {i}: a {cls}, taken for a {pred}", i=i, cls=names[true[i]],
                     pred=names[taken[i]])
        return t("No. {i}: a {cls}", i=i, cls=names[true[i]])

    st.selectbox(t("Or one of the pictures below"), list(true), index=None, key="vision-pick",
                 placeholder=t("Pick a test image"), on_change=picked, format_func=words)


def target_choice(trainer: Trainer) -> int | None:
    """The class the saliency maps explain (None: whatever the network predicts)."""
    names = list(trainer.data.class_names)
    if st.session_state.get("vision-target") not in (None, *range(len(names))):
        del st.session_state["vision-target"]  # a class of another experiment's data
    return st.selectbox(t("Explain the class"), [None, *range(len(names))],
                        key="vision-target",
                        format_func=lambda c: t("the predicted one") if c is None else names[c])


def stale_focus(snap: Snapshot) -> bool:
    """Whether the views of the chosen image show other weights than the trainer's now.
    While it runs they record every few steps; before the first Train and after a pause
    they would otherwise show nothing, or an earlier step."""
    if snap.probes.get("feature_maps") is None:
        return True
    # A probe that does not apply (saliency of a model that does not classify) stays None.
    return any(snap.probes.get(name) is not None and snap.probes[name]["step"] != snap.step
               for name in FOCUS_PROBES)


def sync_focus(trainer: Trainer, wanted: dict[str, Any]) -> None:
    """Tell the trainer what the widgets say, when it differs (each change costs one
    forward and backward pass of one image)."""
    now = trainer.focus
    changes = {}
    for key, value in wanted.items():
        have = now.get(key)
        same = (have is None and value is None) if have is None or value is None else (
            np.array_equal(have, value) if isinstance(value, np.ndarray) else have == value)
        if not same:
            changes[key] = value
    if changes:
        trainer.set_focus(**changes)


# the live views -------------------------------------------------------------------------------

def focus_words(fm: dict[str, Any], names: list[str]) -> str:
    """What the chosen image is and what the network says about it, in one sentence."""
    probs = np.asarray(fm["probs"])
    top = int(probs.argmax())
    says = t("The network says {cls} ({p}).", cls=names[top],
             p=confidence_text(float(probs[top])))
    if fm["index"] is None:
        return t("Your picture.") + " " + says
    if fm["label"] is None:
        return t("Test image {i}.", i=fm["index"]) + " " + says
    return t("Test image {i}, a {cls}.", i=fm["index"], cls=names[int(fm["label"])]) + " " + says


def draw_focus(snap: Snapshot) -> None:
    """The chosen image as the model saw it, and the class probabilities."""
    fm = snap.probes.get("feature_maps")
    if fm is None:
        st.caption(t("The prediction appears once the network has looked at the image: "
                     "press Train or Step."))
        return
    names = list(current().get_trainer().data.class_names)
    st.markdown(f"**{focus_words(fm, names)}**")
    left, right = st.columns([1, 3])
    pixels = (np.clip(np.asarray(fm["image"]), 0, 1) * 255).round().astype(np.uint8)
    inline_image(enlarged(pixels, 140), key="vision-seen", alt=t("as the network sees it"),
                 caption=t("as the network sees it"), where=left)
    right.plotly_chart(cached_figure("vision-probs", (fm,), lambda: probability_bars(
        fm["probs"], names, fm["label"])), key="vision-probs")


def draw_predictions(snap: Snapshot) -> None:
    found = snap.probes.get("predictions")
    if found is None:
        st.info(t("The predictions appear after the first evaluation, at the end of the "
                  "first epoch."))
        return
    data = current().get_trainer().data
    x_test = data.x_test.numpy()  # a view: the data set's one copy, indexed per image
    names = found["class_names"]
    st.caption(t("At step {step} (the last evaluation).", step=found["step"]))
    st.plotly_chart(cached_figure("vision-grid", (found,), lambda: image_grid(
        x_test[found["indices"]], found["true"], found["pred"], names,
        found["confidence"])), key="vision-grid")
    left, right = st.columns(2)
    with left:
        if len(found["wrong"]):
            wrong_true = data.y_test.numpy()[found["wrong"]]
            st.plotly_chart(cached_figure("vision-wrong", (found,), lambda: image_grid(
                x_test[found["wrong"]], wrong_true, found["wrong_pred"], names,
                found["wrong_confidence"], columns=4, title=t("most confidently wrong"))),
                key="vision-wrong")
        else:
            st.success(t("No test image is wrong."))
    right.plotly_chart(cached_figure("vision-confusion", (found,), lambda: confusion_matrix(
        found["confusion"], names)), key="vision-confusion")


def draw_maps(snap: Snapshot) -> None:
    fm = snap.probes.get("feature_maps")
    if fm is None:
        st.caption(t("The feature maps appear once the network has looked at the image: "
                     "press Train or Step."))
        return
    scale = st.session_state.get("vision-scale") or "shared"
    st.caption(t("At step {step}.", step=fm["step"]))
    for node in fm["nodes"]:
        st.plotly_chart(cached_figure(f"vision-map-{node['id']}-{scale}", (fm,),
                               lambda node=node: feature_map_grid(node, scale)),
                        key=f"vision-map-{node['id']}")


def draw_filters(snap: Snapshot) -> None:
    found = snap.probes.get("filters")
    if found is None:
        st.caption(t("The filters appear once training starts: press Train or Step."))
        return
    st.caption(t("At step {step}.", step=found["step"]))
    for node in found["nodes"]:
        st.plotly_chart(cached_figure(f"vision-filter-{node['id']}", (found,),
                               lambda node=node: filter_grid(node)),
                        key=f"vision-filter-{node['id']}")


def draw_saliency(snap: Snapshot) -> None:
    found, fm = snap.probes.get("saliency"), snap.probes.get("feature_maps")
    if found is None or fm is None:
        st.caption(t("Saliency appears once the network has looked at the image: press "
                     "Train or Step."))
        return
    names = list(current().get_trainer().data.class_names)
    grad, cam = cached_figure("vision-saliency", (found, fm), lambda: saliency_figures(
        found, fm["image"], names))
    left, right = st.columns(2)
    left.plotly_chart(grad, key="vision-gradient")
    right.plotly_chart(cam, key="vision-gradcam")
    st.caption(t("At step {step}. Left: how much a small change of each pixel would move the "
                 "class's score. Right: Grad-CAM, where the last convolution layer found what "
                 "speaks for the class.", step=found["step"]))


# the page -----------------------------------------------------------------------------------

def main() -> None:
    session = current()
    trainer = session.get_trainer()
    st.title(t("Vision"))
    st.caption(t("What a network does with pictures, live while it trains. Experiment: "
                 "{name}", name=session.title))
    if not images_in(trainer):
        data = t(DATASETS.get(session.exp.data.name).title)
        offer_preset(session, t("These views show what a network does with pictures, and "
                                "this experiment's data ({data}) are not pictures.",
                                data=data), LESSON_PRESET, "vision-preset")
        return
    run_controls(session, "vision")
    live(session, progress, "vision-progress")
    snap = trainer.snapshot()
    left, right = st.columns([2, 3])
    with left:
        wanted = choose_image(trainer, snap)
        wanted["target"] = target_choice(trainer)
    sync_focus(trainer, wanted)
    if snap.status not in ACTIVE and stale_focus(snap):
        trainer.set_focus()  # one look with the weights as they are now
    with right:
        live(session, draw_focus, "vision-focus-live")
    # Only the open tab is drawn: the others would redraw hidden charts at every refresh.
    tabs = st.tabs([t(v) for v in VIEWS], key="vision-tab", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            live(session, draw_predictions, "vision-pred-live", slower=3)
    if tabs[1].open:
        with tabs[1]:
            feature_maps_tab(session, trainer)
    if tabs[2].open:
        with tabs[2]:
            filters_tab(session, trainer)
    if tabs[3].open:
        with tabs[3]:
            live(session, draw_saliency, "vision-saliency-live")


def feature_maps_tab(session: Session, trainer: Trainer) -> None:
    if not has_maps(trainer):
        offer_preset(session, t("This model has no convolution, pooling or activation layer "
                                "working on the picture, so there are no feature maps to "
                                "show."), LESSON_PRESET, "vision-preset-maps")
        return
    st.segmented_control(t("Colour scale"), list(SCALES), default="shared",
                         format_func=lambda s: t(SCALES[s]), key="vision-scale",
                         help=t("One scale per layer shows which channels respond most; one "
                                "per channel shows what each one finds."))
    # Each new figure mounts the chart again (Streamlit's chart identity hashes it), which a
    # loaded browser draws late: maps change slowly, so they are redrawn half as often.
    live(session, draw_maps, "vision-maps-live", slower=2)


def filters_tab(session: Session, trainer: Trainer) -> None:
    if not has_convolution(trainer):
        offer_preset(session, t("This model has no convolution layer, so it has no filters "
                                "to show."), LESSON_PRESET, "vision-preset-filters")
    else:
        live(session, draw_filters, "vision-filters-live", slower=2)


# Streamlit runs a page as __main__; tests import the page's names without drawing it.
if __name__ == "__main__":
    main()
