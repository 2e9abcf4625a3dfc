"""Export: the run's metrics as CSV, its charts as PNG or SVG, the experiment as a standalone
PyTorch script, the model as ONNX, and TensorBoard event files.

Files that take a moment to make (a picture, the script, ONNX, event files) are made on a
button and then offered for download; what was made stays offered while it still matches
the experiment, and names the step of the run it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from engine.export.metrics_csv import metrics_csv
from engine.export.model_code import UnsupportedLayer
from engine.export.script import ExportError, build_script, file_stem
from engine.i18n import N_, t
from engine.presets import canonical_json
from engine.trainer import Snapshot, Trainer
from ui.session import current
from viz.curves import grad_figure, loss_figure, lr_figure, metric_figure, schedule_curve

CHARTS = {"loss": N_("Loss curves"), "metric": N_("Accuracy or R²"),
          "gradients": N_("Gradient norm per layer"), "lr": N_("Learning rate")}
MIME = {"csv": "text/csv", "zip": "application/zip", "onnx": "application/octet-stream",
        "png": "image/png", "svg": "image/svg+xml"}
SCRIPT_EPOCHS = 20  # offered for an experiment that trains until stopped


def chart(name: str, s: Snapshot, trainer: Trainer) -> Any:  # noqa: ANN401
    if name == "loss":
        return loss_figure(s)
    if name == "metric":
        return metric_figure(s, trainer.task.kind)
    if name == "gradients":
        return grad_figure(s.probes.get("gradient_flow"))
    planned = None if s.epochs is None else schedule_curve(
        trainer.exp.train.schedule, s.lr, s.steps_per_epoch, s.epochs)
    return lr_figure(s, planned)


def made(kind: str, tag: str, make: Callable[[], tuple[str, bytes]], label: str,
         step: int | None = None) -> None:
    """A button that makes a file, then its download button. A failure is one line on the
    page; the last good file of this kind stays offered while ``tag`` (the experiment, and
    for a picture the chart) still matches. ``step``: the run's step the file shows, named
    on the download button since the run may have gone on."""
    slot = f"np-export-{kind}"
    if st.button(label, key=f"export-make-{kind}"):
        with st.spinner(t("Making the file...")):
            try:
                name, data = make()
            except (ExportError, UnsupportedLayer, RuntimeError, ValueError) as e:
                st.error(str(e))
            else:
                st.session_state[slot] = (tag, name, data, step)
    found = st.session_state.get(slot)
    if found and found[0] == tag:
        _, name, data, at = found
        size = size_text(len(data))
        text = (t("Download {file} ({size})", file=name, size=size) if at is None else
                t("Download {file} ({size}, the run at step {step})", file=name, size=size,
                  step=at))
        st.download_button(text, data, file_name=name, mime=MIME[name.rsplit(".", 1)[-1]],
                           key=f"export-get-{kind}", on_click="ignore", icon=":material/download:")


def size_text(n: int) -> str:
    if n < 1000:
        return t("{n} bytes", n=n)
    if n < 1_000_000:
        return t("{n} kB", n=f"{n / 1000:.0f}")
    return t("{n} MB", n=f"{n / 1e6:.1f}")


def _picture(figure: Any, fmt: str) -> bytes:  # noqa: ANN401
    from viz.export_image import figure_bytes

    return figure_bytes(figure, fmt)


def _onnx(trainer: Trainer, name: str) -> bytes:
    from engine.export.onnx_file import model_now, onnx_bytes

    return onnx_bytes(model_now(trainer), trainer.x_test, name)


def _events(trainer: Trainer, s: Snapshot) -> bytes:
    from engine.export.tensorboard import events_zip

    return events_zip(s, trainer.exp, file_stem(trainer.exp.meta.name))


session = current()
trainer = session.get_trainer()
exp = session.exp
snap = trainer.snapshot()
stem = file_stem(exp.meta.name)
spec_tag = canonical_json(exp)

st.title(t("Export"))
st.caption(t("{name}: the run is at epoch {epoch}, step {step}. Files are made from the run "
             "as it is now.", name=session.title, epoch=snap.epoch, step=snap.step))

st.subheader(t("Metrics"))
if not len(snap.evals.get("step", [])):
    st.info(t("Nothing is recorded yet: train the experiment first (on the Train page), then "
              "come back here."))
else:
    c = st.columns(2)
    c[0].download_button(t("Metrics per evaluation (CSV)"),
                         metrics_csv(snap, "evaluation").encode("utf-8"),
                         file_name=f"{stem}_metrics.csv", mime=MIME["csv"],
                         key="export-csv-evaluation", on_click="ignore")
    c[1].download_button(t("Loss per training step (CSV)"),
                         metrics_csv(snap, "step").encode("utf-8"),
                         file_name=f"{stem}_steps.csv", mime=MIME["csv"],
                         key="export-csv-step", on_click="ignore")

st.subheader(t("Charts"))
picked = st.selectbox(t("Chart"), list(CHARTS), format_func=lambda k: t(CHARTS[k]),
                      key="export-chart")
fig = chart(picked, snap, trainer)
st.plotly_chart(fig, key="export-chart-view")
c = st.columns(2)
for col, fmt, label in zip(c, ("png", "svg"), (t("Make a PNG picture"),
                                               t("Make an SVG picture")), strict=True):
    with col:
        made(fmt, f"{spec_tag}|{picked}",
             lambda fmt=fmt: (f"{stem}_{picked}.{fmt}", _picture(fig, fmt)), label, snap.step)

st.subheader(t("Standalone PyTorch script"))
st.caption(t("A Python file that trains this experiment without the app: it needs only torch "
             "and numpy, reads its data and initial weights from the .npz file beside it, "
             "repeats the app's run batch for batch on the CPU, and prints the final train "
             "and test loss as its last line."))
epochs = exp.train.epochs
if epochs is None:
    epochs = int(st.number_input(t("Epochs in the script (this experiment trains until "
                                   "stopped)"), 1, 100_000, SCRIPT_EPOCHS,
                                 key="export-epochs"))
made("script", f"{spec_tag}|{epochs}",
     lambda: (f"{stem}.zip", build_script(exp, epochs, stem).zip_bytes()),
     t("Make the script"))

st.subheader(t("Model as ONNX"))
st.caption(t("For viewers such as Netron and runtimes such as onnxruntime, with the weights "
             "as they are now (step {step}).", step=snap.step))
made("onnx", spec_tag, lambda: (f"{stem}.onnx", _onnx(trainer, exp.meta.name)),
     t("Make the ONNX file"), snap.step)

st.subheader(t("TensorBoard"))
st.caption(t("The run's curves as TensorBoard event files: unzip, then run "
             "tensorboard --logdir {folder}.", folder=stem))
made("tensorboard", spec_tag, lambda: (f"{stem}_tensorboard.zip", _events(trainer, snap)),
     t("Make TensorBoard files"), snap.step)

