"""What the recurrent layers do with the focus row, step by step: their hidden states, their
LSTM and GRU gates, and the gradient of the loss with respect to each step's hidden state
(which fades over time in a plain RNN and survives in an LSTM).

States and gates come from the layers themselves (``states``, ``gates``), kept only while
their ``keep_states`` switch is on, which this module turns on for one forward pass of one
row. The gradient needs the hidden state of every step as a tensor the loss flows through,
both into the output and into the next step; the fused kernel hides those, so for one
forward and backward pass of one row the recurrence is run here step by step, from the
layer's own weights, in place of the fused kernel's output (a forward hook).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from engine.i18n import N_
from engine.probes.base import register
from engine.probes.sequence_base import (
    focus_row,
    looking,
    loss_of,
    numpy32,
    run_model,
    switchable,
    switched_on,
    token_labels,
    vocab_of,
)
from engine.probes.vision_base import FocusProbe, min_interval

if TYPE_CHECKING:
    from engine.trainer import Trainer

SWITCH = "keep_states"


def _names(found: list[tuple[str, str, nn.Module]]) -> list[str]:
    """The node id, or node/path where a node holds more than one recurrent module."""
    return [node if sum(n == node for n, _, _ in found) == 1 else f"{node}/{path}"
            for node, path, _ in found]


def record_states(model: nn.Module, forward: Callable[[], Any]) -> dict[str, nn.Module]:
    """Run ``forward()`` once with every recurrent layer's ``keep_states`` on; the layers
    by name (their ``states`` and ``gates`` now hold this pass)."""
    found = switchable(model, SWITCH)
    if not found:
        return {}
    with torch.no_grad(), switched_on([m for _, _, m in found], SWITCH):
        forward()
    return dict(zip(_names(found), (m for _, _, m in found), strict=True))


class _StatesProbe(FocusProbe):
    """Records the layers' states of the focus row; a subclass picks what it keeps."""

    default_every = 20
    params = (min_interval(0.25),)

    def keep(self, layer: nn.Module) -> Any:  # noqa: ANN401
        raise NotImplementedError

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not switchable(trainer.model, SWITCH):
            return None
        index, x, y = focus_row(trainer)
        with looking(trainer):
            layers = record_states(trainer.model, lambda: run_model(trainer, x, y))
        nodes = {name: kept for name, layer in layers.items()
                 if (kept := self.keep(layer)) is not None}
        if not nodes:
            return None
        return {"step": trainer.step, "index": index,
                "tokens": token_labels(x[0], vocab_of(trainer)), "nodes": nodes}


@register
class HiddenStates(_StatesProbe):
    name = "hidden_states"
    help = (N_("For the chosen sequence: every recurrent layer's hidden state at each time step "
               "(time steps by units)."))

    def keep(self, layer: nn.Module) -> Any:  # noqa: ANN401
        states = getattr(layer, "states", None)
        return None if states is None else numpy32(states[0])  # [T, units]


def gate_kind(gates: dict[str, Any]) -> str:
    return "lstm" if "forget" in gates else "gru" if "update" in gates else "other"


@register
class Gates(_StatesProbe):
    name = "gates"
    help = (N_("For the chosen sequence: each LSTM or GRU layer's gates at each time step "
               "(forget, input, output and candidate; reset, update and candidate)."))

    def keep(self, layer: nn.Module) -> Any:  # noqa: ANN401
        gates = getattr(layer, "gates", None)
        if not gates:
            return None  # a plain RNN has no gates
        return {"kind": gate_kind(gates),
                "gates": {name: numpy32(g[0]) for name, g in gates.items()}}  # [T, H]


# the gradient over time ----------------------------------------------------------------------

def _cell(kind: str, mode: str, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None,
          w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor | None,
          b_hh: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One step of PyTorch's RNN, LSTM or GRU cell (its gate order and biases)."""
    gi = x @ w_ih.T + (b_ih if b_ih is not None else 0)
    gh = h @ w_hh.T + (b_hh if b_hh is not None else 0)
    if kind == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if kind == "GRU":
        ir, iz, in_ = gi.chunk(3, dim=-1)
        hr, hz, hn = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        n = torch.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, None
    pre = gi + gh
    return (torch.relu(pre) if mode == "RNN_RELU" else torch.tanh(pre)), None


def unrolled(rnn: nn.RNNBase, x: torch.Tensor, hx: Any,  # noqa: ANN401
             nudges: list[torch.Tensor]) -> tuple[torch.Tensor, Any]:
    """What ``rnn(x, hx)`` returns, computed step by step; ``nudges`` (zeros [B, dirs*H],
    one per time step) are added to the last layer's hidden state at each step, so the
    gradient of the loss with respect to a nudge is the gradient with respect to that
    step's hidden state, through every path (the output and all later steps)."""
    kind = "LSTM" if isinstance(rnn, nn.LSTM) else "GRU" if isinstance(rnn, nn.GRU) else "RNN"
    mode = getattr(rnn, "mode", "RNN_TANH") if kind == "RNN" else kind
    if rnn.batch_first:
        x = x.transpose(0, 1)
    steps, batch = x.shape[0], x.shape[1]
    dirs, hidden = 2 if rnn.bidirectional else 1, rnn.hidden_size
    h0, c0 = (hx if isinstance(hx, tuple) else (hx, None)) if hx is not None else (None, None)
    zeros = x.new_zeros(rnn.num_layers * dirs, batch, hidden)
    h0 = zeros if h0 is None else h0
    c0 = zeros if c0 is None else c0
    seq, last_h, last_c = x, [], []
    for layer in range(rnn.num_layers):
        outs = []
        for d in range(dirs):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            w = [getattr(rnn, f"{n}{suffix}", None)
                 for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h, c = h0[layer * dirs + d], c0[layer * dirs + d] if kind == "LSTM" else None
            order = range(steps - 1, -1, -1) if d else range(steps)
            out: list[torch.Tensor] = [x.new_empty(0)] * steps
            for t in order:
                h, c = _cell(kind, mode, seq[t], h, c, *w)
                if layer == rnn.num_layers - 1:
                    h = h + nudges[t][:, d * hidden:(d + 1) * hidden]
                out[t] = h
            outs.append(torch.stack(out))
            last_h.append(h)
            last_c.append(c)
        seq = torch.cat(outs, dim=-1)
    output = seq.transpose(0, 1) if rnn.batch_first else seq
    h_n = torch.stack(last_h)
    return output, ((h_n, torch.stack(last_c)) if kind == "LSTM" else h_n)


def recurrent_nodes(model: nn.Module) -> list[tuple[str, nn.RNNBase]]:
    """(name, PyTorch recurrent module) of every recurrent node, in graph order."""
    layers = getattr(model, "layers", None)
    nodes = layers.items() if isinstance(layers, nn.ModuleDict) else [("model", model)]
    found = [(node, path, m) for node, module in nodes for path, m in module.named_modules()
             if isinstance(m, nn.RNNBase) and m.proj_size == 0]
    return list(zip(_names(found), (m for _, _, m in found), strict=True))


def time_gradients(model: nn.Module,
                   loss: Callable[[], torch.Tensor]) -> dict[str, torch.Tensor]:
    """|dL/dh_t| (the norm over the units of the last layer, both directions) for every
    recurrent node and each of its time steps, from one forward and backward
    pass of ``loss()``. The parameters' gradients are left alone."""
    rnns = recurrent_nodes(model)
    if not rnns:
        return {}
    nudges: dict[str, list[torch.Tensor]] = {}
    handles = []
    for name, rnn in rnns:
        def swap(module: nn.RNNBase, args: tuple, kwargs: dict, output: Any,  # noqa: ANN401
                 name: str = name) -> Any:  # noqa: ANN401
            x = args[0]
            hx = args[1] if len(args) > 1 else kwargs.get("hx")
            n = x.shape[1 if module.batch_first else 0]
            b = x.shape[0 if module.batch_first else 1]
            width = module.hidden_size * (2 if module.bidirectional else 1)
            nudges[name] = [x.new_zeros(b, width, requires_grad=True) for _ in range(n)]
            return unrolled(module, x, hx, nudges[name])
        handles.append(rnn.register_forward_hook(swap, with_kwargs=True))
    try:
        with torch.enable_grad():
            value = loss()
            wanted = [z for zs in nudges.values() for z in zs]
            grads = torch.autograd.grad(value, wanted, allow_unused=True) if wanted else []
    finally:
        for h in handles:
            h.remove()
    out, k = {}, 0
    for name, zs in nudges.items():
        g = [torch.zeros(()) if gr is None else gr.detach().norm() for gr in grads[k:k + len(zs)]]
        k += len(zs)
        out[name] = torch.stack([v.float().cpu() for v in g])
    return out


@register
class TimeGradients(FocusProbe):
    name = "time_gradients"
    help = (N_("For the chosen sequence: how strongly the loss depends on each time step's hidden "
               "state in every recurrent layer (it fades over time in a plain RNN)."))
    default_every = 20
    params = (min_interval(0.5),)

    def compute(self, trainer: Trainer) -> dict[str, Any] | None:
        if not recurrent_nodes(trainer.model):
            return None
        index, x, y = focus_row(trainer)
        with looking(trainer):
            grads = time_gradients(trainer.model, lambda: loss_of(trainer, x, y))
        if not grads:
            return None
        return {"step": trainer.step, "index": index,
                "tokens": token_labels(x[0], vocab_of(trainer)),
                "nodes": {name: g.numpy() for name, g in grads.items()}}
