"""The recurrent cells written out one time step at a time, with the fused kernel's own
weights, so the hidden states and gates a view shows are the ones the model computes.

Only a recording pass runs this loop; training runs ``nn.RNN``/``nn.LSTM``/``nn.GRU``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

GATES = {"lstm": ("input", "forget", "candidate", "output"),  # PyTorch's order: i, f, g, o
         "gru": ("reset", "update", "candidate")}  # r, z, n


@dataclass
class Trace:
    """What one direction of the top layer went through, each [B, T, H]."""

    cells: list[torch.Tensor] = field(default_factory=list)
    gates: dict[str, list[torch.Tensor]] = field(default_factory=dict)


def _direction(core: nn.RNNBase, kind: str, x: torch.Tensor, layer: int, reverse: bool,
               tap: torch.Tensor | None, trace: Trace | None) -> torch.Tensor:
    """One layer, one direction over x [B, T, F]: the hidden states [B, T, H]."""
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    w_ih, w_hh = getattr(core, "weight_ih" + sfx), getattr(core, "weight_hh" + sfx)
    b_ih, b_hh = getattr(core, "bias_ih" + sfx), getattr(core, "bias_hh" + sfx)
    b, steps, _ = x.shape
    h = x.new_zeros(b, core.hidden_size)
    c = x.new_zeros(b, core.hidden_size)
    xw = torch.nn.functional.linear(x, w_ih, b_ih)  # every step's input part at once
    out: list[torch.Tensor] = [h] * steps
    names = GATES.get(kind, ())
    if trace is not None:
        trace.gates = {g: [h] * steps for g in names}
        trace.cells = [h] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        hw = torch.nn.functional.linear(h, w_hh, b_hh)
        if kind == "lstm":
            i, f, g, o = (xw[:, t] + hw).chunk(4, dim=-1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            acts = (i, f, g, o)
        elif kind == "gru":
            xr, xz, xn = xw[:, t].chunk(3, dim=-1)
            hr, hz, hn = hw.chunk(3, dim=-1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
            acts = (r, z, n)
        else:
            pre = xw[:, t] + hw
            h = torch.tanh(pre) if core.nonlinearity == "tanh" else torch.relu(pre)
            acts = ()
        if tap is not None:  # adds zero; its gradient is dL/dh_t through every later step
            h = h + tap[:, t]
        out[t] = h
        if trace is not None:
            for name, a in zip(names, acts, strict=True):
                trace.gates[name][t] = a.detach()
            trace.cells[t] = c.detach()
    return torch.stack(out, dim=1)


def run_steps(core: nn.RNNBase, kind: str, x: torch.Tensor, tap: torch.Tensor | None
              ) -> tuple[torch.Tensor, list[Trace]]:
    """Every layer and direction step by step: the top layer's output [B, T, H * dirs]
    (as the fused kernel's) and one trace per direction of the top layer. ``tap``
    [B, T, H * dirs] is added to the top layer's states."""
    dirs = 2 if core.bidirectional else 1
    h_size = core.hidden_size
    traces: list[Trace] = []
    for layer in range(core.num_layers):
        top = layer == core.num_layers - 1
        outs = []
        for d in range(dirs):
            trace = Trace() if top else None
            part = None if tap is None or not top else tap[..., d * h_size:(d + 1) * h_size]
            outs.append(_direction(core, kind, x, layer, d == 1, part, trace))
            if trace is not None:
                traces.append(trace)
        x = torch.cat(outs, dim=-1) if dirs == 2 else outs[0]
    return x, traces
