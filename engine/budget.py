"""What an experiment would cost the server, estimated from the spec before anything is built.

A share link of a few hundred characters can describe a model of billions of parameters;
building it would take the server's memory for every other user. The plan's parameter
counts come from the meta device (no weights are allocated), and the activation memory
from its output shapes, so a spec over the budget is refused in milliseconds.

The limits come from the environment, so a server sets them once:
``NP_MAX_PARAMS``, ``NP_MAX_ACTIVATION_MB``, ``NP_MAX_DATA_MB``, and ``NP_BUDGET_SCALE``
(multiplies all three; the command line's ``--budget-scale`` sets it).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from engine.data.base import DataBundle
from engine.errors import Issue, SpecError
from engine.graph import NodeInfo, Plan
from engine.i18n import language, t
from engine.inner_memory import inner_floats
from engine.tasks.supervised import EVAL_CHUNK

# A small classroom server (a few GB shared by a class): every preset stays far below
# these (the largest has some thousands of parameters).
DEFAULT_MAX_PARAMS = 10_000_000
DEFAULT_MAX_ACTIVATION_MB = 512.0
DEFAULT_MAX_DATA_MB = 256.0
EVAL_BYTES = 32 * 2**20  # layer outputs of one scoring pass
ENV_PARAMS, ENV_ACTIVATION, ENV_DATA, ENV_SCALE = (
    "NP_MAX_PARAMS", "NP_MAX_ACTIVATION_MB", "NP_MAX_DATA_MB", "NP_BUDGET_SCALE")
# Backward keeps each node's output and makes a gradient of the same size, and activations
# keep what they need to differentiate: about three copies of every output.
BACKWARD_FACTOR = 3
FLOAT_BYTES = 4
MB = 2 ** 20
OVER_BUDGET = "over_budget"


@dataclass(frozen=True)
class Limits:
    params: int
    activation_mb: float
    data_mb: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The server's limits: the environment's, else the defaults, times the scale."""
        env = os.environ if env is None else env
        scale = _number(env, ENV_SCALE, 1.0)
        return cls(params=int(_number(env, ENV_PARAMS, DEFAULT_MAX_PARAMS) * scale),
                   activation_mb=_number(env, ENV_ACTIVATION, DEFAULT_MAX_ACTIVATION_MB) * scale,
                   data_mb=_number(env, ENV_DATA, DEFAULT_MAX_DATA_MB) * scale)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return float(default)
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        # A misconfigured server should say so, not run without limits.
        raise ValueError(t("the environment variable {name} must be a positive number, got "
                           "{value}", name=name, value=repr(text)))
    return value


@dataclass(frozen=True)
class Cost:
    """The estimate; each ``largest_*`` is (node id, its share)."""

    params: int
    largest_params: tuple[str, int]
    batch_bytes: int  # the layers' outputs for one training batch, backward included
    largest_batch: tuple[str, int]
    eval_rows: int  # rows per forward pass when the test set is scored
    eval_bytes: int  # the layers' outputs for one such pass (no backward)
    data_bytes: int


def _inner(n: NodeInfo, measure: bool) -> int:
    return inner_floats(n.type, n.params, list(n.in_shapes)) if measure else 0


def _train_floats(n: NodeInfo, inner: int) -> int:
    """Floats a node holds per sample through a training step: about three copies of its
    output, or, when it makes more inside (a Transformer's feed-forward layer, the parts
    of a block), all it makes kept for backward plus its output's gradient."""
    out = math.prod(n.out_shape)
    return max(BACKWARD_FACTOR * out, inner + out)


def _eval_row_bytes(plan: Plan, measure: bool = True) -> int:
    """Bytes per row of a scoring pass: every layer's output, and the largest working space
    a single node needs beyond its output and one temporary (none for most layers)."""
    outputs = sum(math.prod(n.out_shape) for n in plan.nodes) + math.prod(plan.input_shape)
    working = max((_inner(n, measure) - 2 * math.prod(n.out_shape) for n in plan.nodes),
                  default=0)
    return (outputs + max(working, 0)) * FLOAT_BYTES


def eval_rows(plan: Plan, measure: bool = True) -> int:
    """Rows per forward pass when a split is scored: as many as fit in EVAL_BYTES of
    layer outputs (a toy MLP scores thousands at once, a CNN on colour images fewer)."""
    return max(1, min(EVAL_CHUNK, EVAL_BYTES // _eval_row_bytes(plan, measure)))


def estimate(plan: Plan, batch_size: int, data: DataBundle, measure: bool = True) -> Cost:
    """The cost of training ``plan`` on ``data`` in batches of ``batch_size``; ``measure``
    False counts layer outputs only (no node is run on the meta device)."""
    per_row = {n.id: _train_floats(n, _inner(n, measure)) * FLOAT_BYTES for n in plan.nodes}
    by_params = max(plan.nodes, key=lambda n: n.n_params)
    by_output = max(plan.nodes, key=lambda n: per_row[n.id])
    rows = min(len(data.x_test), eval_rows(plan, measure))
    train_rows = min(batch_size, len(data.x_train))
    train_row = (sum(per_row.values())
                 + BACKWARD_FACTOR * math.prod(plan.input_shape) * FLOAT_BYTES)
    tensors = (data.x_train, data.y_train, data.x_test, data.y_test)
    return Cost(
        params=plan.total_params, largest_params=(by_params.id, by_params.n_params),
        batch_bytes=train_row * train_rows,
        largest_batch=(by_output.id, per_row[by_output.id] * train_rows),
        eval_rows=rows, eval_bytes=_eval_row_bytes(plan, measure) * rows,
        data_bytes=sum(t.numel() * t.element_size() for t in tensors))


def budget_issues(cost: Cost, limits: Limits) -> list[Issue]:
    """One line per limit the cost goes over, naming the largest contributor."""
    issues = []
    if cost.params > limits.params:
        node, n = cost.largest_params
        issues.append(Issue("model", t(
            "the model has {count} parameters, over this server's limit of {limit} (the largest "
            "layer is {node} with {largest}); use fewer or smaller layers",
            count=count_words(cost.params), limit=count_words(limits.params), node=node,
            largest=count_words(n)), OVER_BUDGET))
    limit = limits.activation_mb * MB
    if cost.batch_bytes > limit:
        node, b = cost.largest_batch
        issues.append(Issue("model", t(
            "training one batch needs about {size} for the layers' outputs, over this server's "
            "limit of {limit} (the largest is {node} with {largest}); use a smaller batch size "
            "or smaller layers", size=size_words(cost.batch_bytes), limit=size_words(limit),
            node=node, largest=size_words(b)), OVER_BUDGET))
    elif cost.eval_bytes > limit:
        issues.append(Issue("model", t(
            "scoring the test set ({rows} rows at a time) needs about {size} for the layers' "
            "outputs, over this server's limit of {limit}; use smaller layers",
            rows=cost.eval_rows, size=size_words(cost.eval_bytes), limit=size_words(limit)),
            OVER_BUDGET))
    if cost.data_bytes > limits.data_mb * MB:
        issues.append(Issue("data", t(
            "the data set takes {size}, over this server's limit of {limit}; use fewer rows or "
            "columns", size=size_words(cost.data_bytes), limit=size_words(limits.data_mb * MB)),
            OVER_BUDGET))
    return issues


def check_budget(plan: Plan, batch_size: int, data: DataBundle,
                 limits: Limits | None = None) -> Cost:
    """The cost, or a SpecError when it is over the server's limits."""
    limits = Limits.from_env() if limits is None else limits
    # A model over the parameter limit is refused without running its layers on the meta
    # device (the first such run of a process costs a second or two of imports).
    cost = estimate(plan, batch_size, data, measure=plan.total_params <= limits.params)
    issues = budget_issues(cost, limits)
    if issues:
        raise SpecError(issues)
    return cost


def _three_digits(v: float) -> float:
    return float(f"{v:.3g}")


def count_words(n: float) -> str:
    """1661370370 -> '1.66 billion' (three meaningful digits); under a million, 12,345.
    Chinese counts in 万 (ten thousand) and 亿 (a hundred million) instead."""
    units = (((1e8, "亿"), (1e4, "万")) if language() == "zh"
             else ((1e9, " billion"), (1e6, " million")))
    for size, word in units:
        v = _three_digits(n / size)
        if v >= 1:
            return f"{v:g}{word}"
    return f"{round(n):,}"


def size_words(n_bytes: float) -> str:
    """Bytes in KB, MB or GB (powers of 1024), three meaningful digits at most."""
    for size, unit in ((2 ** 30, "GB"), (MB, "MB"), (2 ** 10, "KB")):
        v = _three_digits(n_bytes / size)
        if v >= 1:
            return f"{v:g} {unit}"
    return t("{n} bytes", n=int(n_bytes))
