"""Receptive fields: which pixels each node's units can see (theory, for the whole
network), the box of a chosen unit over the chosen image, how strongly each pixel actually
moves that unit at the start and now, and how fields grow with depth, dilation and stride."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.data.images import unprepare
from engine.i18n import t
from engine.probes.receptive_field import check_unit, default_unit
from engine.receptive import field_rows, growth_curves, has_convolution, is_image
from engine.trainer import Snapshot, Trainer
from ui.controls import run_controls
from ui.live import cached_figure, live
from ui.offer import offer_preset
from ui.present import figure_height
from ui.session import Session, current
from viz.receptive import field_figure, field_table, growth_bars, growth_lines, nested_boxes

# The preset offered when the current model has no convolution (set by the presets'
# author to the lesson that shows receptive fields best).
SHOWCASE_PRESET = "cnn_lenet"
NODE, CHANNEL, ROW, COL, INDEX = "rf-node", "rf-channel", "rf-row", "rf-col", "rf-index"


def not_applicable(session: Session, trainer: Trainer) -> None:
    why = (t("its input is not an image") if not is_image(trainer.plan.input_shape) else
           t("none of its layers slides a window over the image"))
    offer_preset(session, t("A receptive field is the patch of the image that one unit of a "
                            "convolution or pooling layer can see. This model has no such "
                            "layer: {why}, so every unit sees the whole input.", why=why),
                 SHOWCASE_PRESET, "rf-open-preset")


def _image_nodes(trainer: Trainer) -> dict[str, tuple[int, int, int]]:
    """Nodes whose units can be picked: image outputs, in network order."""
    return {n.id: n.out_shape for n in trainer.plan.nodes if is_image(n.out_shape)}


def _set_unit(trainer: Trainer, node: str, ch: int, y: int, x: int) -> None:
    trainer.set_focus(unit=(node, int(ch), int(y), int(x)))


def _node_changed(trainer: Trainer) -> None:
    c, h, w = _image_nodes(trainer)[st.session_state[NODE]]
    ch = min(int(st.session_state.get(CHANNEL, 0)), c - 1)
    _set_unit(trainer, st.session_state[NODE], ch, h // 2, w // 2)


def _position_changed(trainer: Trainer) -> None:
    c, h, w = _image_nodes(trainer)[st.session_state[NODE]]
    _set_unit(trainer, st.session_state[NODE], min(st.session_state[CHANNEL], c - 1),
              min(st.session_state.get(ROW, 0), h - 1), min(st.session_state.get(COL, 0), w - 1))


def _index_changed(trainer: Trainer) -> None:
    trainer.set_focus(index=int(st.session_state[INDEX]))


def unit_picker(trainer: Trainer) -> None:
    """Node, channel, row and column of the unit, and the test image; what the trainer
    focuses on is the truth, the widgets follow it (another page may have changed it)."""
    unit = trainer.focus["unit"]
    if unit is None or check_unit(trainer.plan, unit):
        unit = default_unit(trainer.plan)
        trainer.set_focus(unit=unit)
    node, ch, y, x = unit
    c, h, w = _image_nodes(trainer)[node]
    st.session_state[NODE], st.session_state[CHANNEL] = node, ch
    st.session_state[ROW], st.session_state[COL] = y, x
    st.session_state[INDEX] = trainer.focus["index"]

    top = st.columns([3, 1, 1])
    nodes = _image_nodes(trainer)
    top[0].selectbox(t("Node"), list(nodes), key=NODE, on_change=_node_changed,
                     args=(trainer,), format_func=lambda n: t(
                         "{node} ({c} maps of {h} × {w})", node=n, c=nodes[n][0],
                         h=nodes[n][1], w=nodes[n][2]))
    top[1].number_input(t("Channel"), 0, c - 1, key=CHANNEL, on_change=_position_changed,
                        args=(trainer,), help=t("Which feature map of the node."))
    top[2].number_input(t("Test image"), 0, len(trainer.x_test) - 1, key=INDEX,
                        on_change=_index_changed, args=(trainer,),
                        help=t("Which test image to look at (shared with the other vision "
                               "views)."))
    pos = st.columns(2)
    for col, key, label, n in ((pos[0], ROW, t("Row"), h), (pos[1], COL, t("Column"), w)):
        if n > 1:
            col.slider(label, 0, n - 1, key=key, on_change=_position_changed, args=(trainer,))
        else:
            col.caption(t("{label}: 0 (the map is one pixel high or wide)", label=label))
    if trainer.focus["image"] is not None:
        st.caption(t("Showing the image drawn or uploaded on another page."))
        if st.button(t("Back to the test images"), key="rf-test-images"):
            trainer.set_focus(image=None)
            st.rerun()


def draw_field(snap: Snapshot) -> None:
    result = snap.probes.get("receptive_field")
    if result is None:
        st.info(t("The field appears once the unit is recorded: press Step or Train."))
        return
    node, ch, y, x = result["unit"]
    y0, x0, y1, x1 = result["box"]
    st.plotly_chart(cached_figure("rf-field", snap.version, lambda: field_figure(
        result, figure_height(300))), key="rf-field-chart")
    st.caption(t("The blue box is every pixel that can reach unit ({y}, {x}) of map {ch} of "
                 "{node}: rows {y0} to {y1}, columns {x0} to {x1} (its theoretical field). "
                 "The red heat is how much each pixel actually moves the unit (the size of "
                 "its gradient), each map scaled to its own strongest pixel: it never leaves "
                 "the box, and usually gathers in its middle.", y=y, x=x, ch=ch, node=node,
                 y0=y0, y1=y1 - 1, x0=x0, x1=x1 - 1))
    if not result["now"].any():
        st.warning(t("No pixel moves this unit now: on this image it is switched off (an "
                     "activation before it outputs zero everywhere it looks). Pick another "
                     "unit or image."))


def growth(rows: list[dict], image: object, image_hw: tuple[int, int]) -> None:
    st.subheader(t("How the field grows"))
    left, right = st.columns(2)
    left.plotly_chart(growth_bars(rows, image_hw, figure_height(340)), key="rf-bars")
    right.plotly_chart(nested_boxes(rows, image, figure_height(340)), key="rf-boxes")


def growth_compared() -> None:
    st.plotly_chart(growth_lines(growth_curves(6), figure_height(320)), key="rf-lines")
    st.caption(t("Each 3×3 layer adds two steps of the layer below to the field. Stride and "
                 "pooling space the units out, so every later layer adds more pixels; "
                 "dilation spreads the kernel's taps instead and grows the field as fast "
                 "while keeping every position (its maps stay full size)."))


def main() -> None:
    session = current()
    st.title(t("Receptive fields"))
    st.caption(t("How much of the image one unit can see, and which of those pixels "
                 "actually matter to it. Experiment: {name}", name=session.title))
    trainer = session.get_trainer()
    if not has_convolution(trainer.plan):
        not_applicable(session, trainer)
        growth_compared()
        return
    run_controls(session, "receptive")
    rows = field_rows(trainer.plan)
    st.subheader(t("What each node sees"))
    st.table(pd.DataFrame(field_table(rows)), hide_index=True)  # wraps, never cuts
    st.caption(t("A unit's field is the square of input pixels it depends on. It grows "
                 "with each window (kernel) it passes through, faster after a stride or "
                 "pooling, and spreads with dilation. A centre below 0 means the first "
                 "unit's field starts in the padding."))

    st.subheader(t("One unit's field"))
    unit_picker(trainer)
    live(session, draw_field, "rf-live", slower=2.0)

    x, _ = trainer.focus_input()
    info = trainer.data.image
    image = (unprepare(x, info) if info is not None else x.clamp(0, 1))[0].cpu().numpy()
    growth(rows, image, trainer.plan.input_shape[1:])
    growth_compared()


main()
