"""Verdicts on a run's health, per layer, from the gradient-flow and activation probes.

Thresholds (each a module constant, so a lesson can quote them):
- vanishing: a layer's recent gradient norm is below VANISH_RATIO times the output
  layer's (the chain rule has multiplied many small factors on the way back);
- exploding: gradients are not finite, or a layer's recent gradient norm grew more
  than EXPLODE_GROWTH-fold since the start, or is above EXPLODE_RATIO times the output
  layer's (gradients grow on the way back), or the run paused because it diverged;
- dead: more than DEAD_SHARE of a ReLU layer's units were silent on every one of the
  recent recorded batches;
- saturated: more than SATURATED_SHARE of a sigmoid/tanh layer's outputs sit in the
  flat tails, where the derivative is under a tenth of its peak.
Only the recent window (the last WINDOW recordings) counts, so a run that has
recovered reads healthy again.

No verdict before MIN_RECORDINGS gradient-flow recordings of the current run: a
median over one or two batches says nothing about a layer (and at step 0 there is
nothing at all), so the result is "not measured" until then. A divergence or a
gradient that is not finite is the exception: one is enough to call it exploding.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.i18n import N_, t

VANISH_RATIO = 1e-2
EXPLODE_RATIO = 1e2
EXPLODE_GROWTH = 1e3
DEAD_SHARE = 0.5
SATURATED_SHARE = 0.5
WINDOW = 10
MIN_RECORDINGS = 5  # gradient-flow recordings of this run before any verdict is given
NOT_MEASURED = "not_measured"
# Dead and saturated units are causes of small gradients, so they outrank "vanishing".
SEVERITY = ("healthy", "vanishing", "saturated", "dead", "exploding")

# The verdicts' names as the pages show them (``t(v.verdict)``).
VERDICT_NAMES = {
    "healthy": N_("healthy"),
    "vanishing": N_("vanishing"),
    "exploding": N_("exploding"),
    "dead": N_("dead"),
    "saturated": N_("saturated"),
    NOT_MEASURED: N_("not measured"),
}

# What the trainer says about a node that blew up (its ``nonfinite["what"]``), so the
# catalogue carries them for ``t(what)`` above.
TRAINER_WORDS = (N_("its weights are not finite"), N_("its output is not finite (overflow)"),
                 N_("the loss is {loss}"),
                 N_("the loss rose to {loss} (over {factor} times its start); the weights of "
                    "{node} grew {growth}-fold"))


def nonfinite_words(nonfinite: dict) -> str:
    """What the trainer said about a blown-up run, in the reader's language."""
    return t(nonfinite.get("what", N_("the loss diverged")), **nonfinite.get("what_args", {}))

CURES = {
    "vanishing": ("relu", "he_init", "batchnorm", "residual"),
    "exploding": ("clip", "lower_lr", "xavier_init", "batchnorm"),
    "dead": ("lower_lr", "leaky_relu", "he_init"),
    "saturated": ("relu", "xavier_init", "batchnorm"),
    "healthy": (),
    NOT_MEASURED: (),
}


@dataclass(frozen=True)
class LayerVerdict:
    node: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class Health:
    verdict: str  # the most severe layer verdict, or NOT_MEASURED
    layers: tuple[LayerVerdict, ...]
    first_to_last: float  # gradient norm of the first layer over the output layer's
    cures: tuple[str, ...]
    recordings: int = 0  # gradient-flow recordings the verdict rests on

    @property
    def measured(self) -> bool:
        return self.verdict != NOT_MEASURED

    def of(self, node: str) -> LayerVerdict | None:
        return next((v for v in self.layers if v.node == node), None)


def _recent(values: np.ndarray) -> np.ndarray:
    """Median over the recent window, per column."""
    if values.size == 0:
        return np.zeros(values.shape[1:] if values.ndim > 1 else ())
    with warnings.catch_warnings():  # an all-NaN column (no ReLU here) is expected
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values[-WINDOW:], axis=0)


def _latest(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if finite.size else math.nan


def assess(probes: dict[str, Any], nonfinite: dict[str, Any] | None = None) -> Health:
    """Judge each layer from a snapshot's probe results."""
    verdicts: dict[str, tuple[str, str]] = {}

    def judge(node: str, verdict: str, reason: str) -> None:
        old = verdicts.get(node)
        if old is None or SEVERITY.index(verdict) > SEVERITY.index(old[0]):
            verdicts[node] = (verdict, reason)

    ratio = math.nan
    flow = probes.get("gradient_flow")
    recordings = len(flow["steps"]) if flow else 0
    if recordings:
        nodes, grads = flow["nodes"], flow["grad"]
        recent = _recent(grads)
        first = grads[0]
        out = recent[-1]
        ratio = float(recent[0] / out) if out > 0 else math.nan
        for i, node in enumerate(nodes):
            g = recent[i]
            judge(node, "healthy", t("gradient norm {g}", g=f"{g:.2g}"))
            if not np.isfinite(grads[-WINDOW:, i]).all():
                judge(node, "exploding", t("its gradient is not finite"))
            elif first[i] > 0 and g > EXPLODE_GROWTH * first[i]:
                judge(node, "exploding", t("its gradient grew {x}-fold", x=f"{g / first[i]:.3g}"))
            elif i < len(nodes) - 1 and out > 0 and g > EXPLODE_RATIO * out:
                judge(node, "exploding", t("its gradient is {x} times the output layer's",
                                           x=f"{g / out:.3g}"))
            elif i < len(nodes) - 1 and out > 0 and g < VANISH_RATIO * out:
                judge(node, "vanishing", t("its gradient is zero") if g == 0 else
                      t("its gradient is {x} times smaller than the output layer's",
                        x=f"{out / g:.3g}"))
    acts = probes.get("activations")
    if acts and len(acts["steps"]):
        for node in acts["nodes"]:
            # The dead share already spans several batches; the newest value is the verdict.
            dead = _latest(acts["series"]["dead"][node])
            sat = _recent(acts["series"]["saturated"][node])
            if np.isfinite(dead) and dead > DEAD_SHARE:
                judge(node, "dead", t("{share} of its ReLU units never fire on a batch",
                                      share=f"{dead:.0%}"))
            if np.isfinite(sat) and sat > SATURATED_SHARE:
                judge(node, "saturated", t("{share} of its outputs sit in the flat tails",
                                           share=f"{sat:.0%}"))
    if nonfinite:
        node = nonfinite.get("node", "loss")
        # The trainer words ``what`` in English (it runs in its own thread): translated here.
        judge(node, "exploding", nonfinite_words(nonfinite))
    layers = tuple(LayerVerdict(n, v, r) for n, (v, r) in verdicts.items())
    worst = max((v.verdict for v in layers), key=SEVERITY.index, default="healthy")
    # Not finite is a fact, not a trend: it needs no minimum of recordings.
    certain = bool(nonfinite) or bool(
        recordings and not np.isfinite(np.asarray(flow["grad"])[-WINDOW:]).all())
    if recordings < MIN_RECORDINGS and not certain:
        return Health(NOT_MEASURED, (), math.nan, CURES[NOT_MEASURED], recordings)
    return Health(worst, layers, ratio, CURES[worst], recordings)
