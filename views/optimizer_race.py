"""Optimizer race: torch.optim's optimizers side by side on classic 2-D loss surfaces."""

from __future__ import annotations

import streamlit as st

from engine.i18n import language, t
from engine.lab.optim_race import LABELS, OPTIMIZERS, learning_rates, race, summary
from engine.lab.surfaces import SURFACES, ceiling
from viz.axes import sig
from viz.optim_race import loss_figure, race_figure

LR_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)

st.title(t("Optimizer race"))
st.caption(t("Every optimizer starts from the same point and takes the same number of steps. "
             "These are PyTorch's own optimizers, moving a two-number parameter."))

# Narrow rows of short labels: the page must read on a 1024-pixel projector with the
# sidebar open, where four columns leave each one too little room for its words.
name = st.selectbox(t("Surface"), list(SURFACES), key="race-surface",
                    format_func=lambda n: t(SURFACES[n].title))
surface = SURFACES[name]
st.caption(t(surface.note))
xmin, xmax, ymin, ymax = surface.bounds
c = st.columns(3)
# Keys carry the surface name: each surface keeps its own start and step count.
x0 = c[0].number_input(t("Start x"), float(xmin), float(xmax), float(surface.start[0]),
                       step=0.1, key=f"race-x-{name}")
y0 = c[1].number_input(t("Start y"), float(ymin), float(ymax), float(surface.start[1]),
                       step=0.1, format="%.3f", key=f"race-y-{name}")
steps = c[2].number_input(t("Steps"), 1, 1000, surface.steps, step=50, key=f"race-steps-{name}")

c = st.columns(3)
scale = c[0].select_slider(
    t("Learning rate ×"), LR_SCALES, value=1.0, key="race-lr",
    help=t("Each optimizer starts from a learning rate tuned for this surface; "
           "this multiplies all of them."))
momentum = c[1].slider(t("Momentum β"), 0.0, 0.99, 0.9, 0.01, key="race-momentum",
                       help=t("Momentum for SGD with momentum and Nesterov, β₁ for Adam "
                              "and AdamW."))
decay = c[2].number_input(t("Weight decay"), 0.0, 1.0, 0.01, step=0.01, format="%.3f",
                          key="race-decay", help=t("AdamW's decoupled weight decay."))
chosen = st.multiselect(t("Optimizers"), list(OPTIMIZERS), default=list(OPTIMIZERS),
                        format_func=lambda n: t(LABELS[n]), key="race-optimizers")

if not chosen:
    st.info(t("Pick at least one optimizer."))
    st.stop()



@st.cache_data(max_entries=32, show_spinner=False)
def run_race(name: str, start: tuple[float, float], steps: int, chosen: tuple[str, ...],
             scale: float, momentum: float, decay: float, lang: str) -> tuple:
    """The race and its two figures: building the animation frames costs more than the
    race itself, and a rerun caused by another widget should cost neither. The cache is
    the server's: ``lang`` keeps each language's figures apart."""
    runs = race(name, start, steps, chosen, lr_scale=scale, momentum=momentum,
                weight_decay=decay)
    surface = SURFACES[name]
    return runs, race_figure(surface, runs), loss_figure(runs, surface.fmin, height=440,
                                                         top=ceiling(surface))


runs, race_fig, loss_fig = run_race(name, (x0, y0), int(steps), tuple(chosen), scale,
                                    momentum, decay, language())
# One above the other: side by side, each gets half of a projector's width and the
# legends crowd out the map.
st.plotly_chart(race_fig, key="race-map")
st.plotly_chart(loss_fig, key="race-loss")

rows = summary(runs, surface.fmin, ceiling=ceiling(surface))
gone = [t("{name} at step {n}", name=t(r["optimizer"]), n=r["diverged_at"])
        for r in rows if r["diverged"]]
if gone:
    st.warning(t("Diverged, so the path leaves the map: {runs}. Try a smaller learning rate.",
                 runs=", ".join(gone)))


def end_point(row: dict) -> str:
    """Where the run ended, or when it diverged: a point at 1e300 means nothing."""
    if row["diverged"]:
        return t("diverged at step {n}", n=row["diverged_at"])
    return f"({sig(row['x'])}, {sig(row['y'])})"


st.table(  # a static table wraps its cells instead of cutting them
    [{t("Optimizer"): t(r["optimizer"]), t("Learning rate"): sig(r["lr"]),
      t("End point"): end_point(r), t("Gap to minimum"): "—" if r["diverged"] else sig(r["gap"]),
      t("Steps to gap < 0.001"): "—" if r["steps_to_tol"] is None else str(r["steps_to_tol"])}
     for r in rows],
    hide_index=True,
)
with st.expander(t("Tuned learning rates for this surface")):
    st.write(", ".join(f"{t(LABELS[n])} {sig(lr)}" for n, lr in learning_rates(name).items()))
