"""What a freshly started server does once, so that the first click on Train is as
quick as every later one.

The first training step of a process pays for much that later ones do not:
autograd's and the optimizer's first use, each probe's first recording, and
plotly's validators and JSON encoder, which load on a figure's first use. A
few steps of the default preset, in a thread of their own (training runs in
one too), and the figures the first page draws from them, pay for it before
anyone waits.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time

log = logging.getLogger(__name__)
STEPS = 60  # past every default probe's first recording at its cadence


def warm_up(preset: str = "spiral") -> float:
    """Train a few steps of ``preset`` and draw what the pages draw from them; returns the
    seconds it took. Nothing it builds is kept."""
    import plotly.io

    from engine.presets import load_preset
    from engine.trainer import Trainer
    from ui.pages import NEEDED_PROBES

    t0 = time.perf_counter()
    trainer = Trainer(load_preset(preset), needs=NEEDED_PROBES)
    trainer.step_n(STEPS)  # in the trainer's own thread, as a click on Train would
    trainer.wait(30.0)
    trainer.stop()
    for fig in _figures(trainer):
        if hasattr(fig, "to_plotly_json"):
            plotly.io.to_json(fig, validate=False)  # as st.plotly_chart sends it
    return time.perf_counter() - t0


def _figures(trainer: object) -> list[object]:
    """The Playground's and the Train page's figures (and the Playground's pictures) of
    this trainer's latest snapshot."""
    from viz.curves import confusion_figure, grad_figure, loss_figure, metric_figure
    from viz.network import network_png, network_tips, output_png, output_tips

    s = trainer.snapshot()  # type: ignore[attr-defined]
    data = trainer.data  # type: ignore[attr-defined]
    figs = [loss_figure(s), metric_figure(s, data.kind),
            grad_figure(s.probes.get("gradient_flow"))]
    ev = s.probes.get("evaluation")
    if ev is not None and ev.get("kind") == "classification":
        figs.append(confusion_figure(ev))
    b = s.probes.get("boundary")
    if b is not None and b.get("dims") == 2:
        columns = [("input", ["x1", "x2"])] + [
            (n.id, [str(k) for k in range(n.out_shape[0])])
            for n in trainer.plan.nodes]  # type: ignore[attr-defined]
        weights, labels = b.get("weights", {}), data.y_train.numpy()
        figs += [network_png(columns, b["nodes"], weights), network_tips(columns, weights),
                 output_png(b, data.kind, data.points_train, labels),
                 output_tips(b, data.kind, data.points_train, labels)]
    return figs


_started = threading.Lock()


def freeze_what_lives_on() -> None:
    """Take what the warm-up loaded out of the garbage collector's reach, as the app does
    with what start-up loaded (app.py). The modules it imported on first use (torch's
    operator tables, plotly's validators: some 145,000 objects) live as long as the
    process, and a full collection, which holds every thread of the server, walked them
    all: 110-135 ms of CPU every 15-30 s with twenty sessions."""
    gc.collect()
    gc.freeze()


def warm_up_once() -> None:
    """Warm up once per process, in a thread: the first page is drawn meanwhile.

    Once per process rather than a cached resource: clearing Streamlit's caches (the
    tests do, between apps) must not train the warm-up again. NP_WARM_UP=0 turns it off
    (to measure what it saves)."""
    if os.environ.get("NP_WARM_UP") == "0" or not _started.acquire(blocking=False):
        return

    def run() -> None:
        try:
            log.info("warm-up done in %.2f s", warm_up())
        except Exception:  # a warm-up is an optimisation: the app works without it
            log.exception("warm-up failed")
        freeze_what_lives_on()

    threading.Thread(target=run, name="np-warm-up", daemon=True).start()
