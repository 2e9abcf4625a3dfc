"""Recurrent layers (RNN, LSTM, GRU): [length, features] in; the whole sequence of hidden
states, the last one, or their mean out.

While ``keep_states`` is True a forward pass runs the cells step by step (the same weights
as the fused kernel) and keeps ``states`` [B, T, H * dirs], ``gates`` ({name: [B, T,
H * dirs]}) and, for an LSTM, ``cells``; ``state_taps`` is a zero tensor added to every
state whose gradient after a backward pass is dL/dh_t (when gradients are on).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine.i18n import N_
from engine.layers.base import LAYERS, LayerType, Shape, whole_input
from engine.layers.recurrent_steps import GATES, run_steps
from engine.layers.sequence_shape import sequence
from engine.params import Param

CORES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Recurrent(nn.Module):
    def __init__(self, kind: str, features: int, hidden: int, layers: int,
                 bidirectional: bool, output: str, activation: str = "tanh") -> None:
        super().__init__()
        extra = {"nonlinearity": activation} if kind == "rnn" else {}
        self.core = CORES[kind](features, hidden, layers, batch_first=True,
                                bidirectional=bidirectional, **extra)
        self.kind, self.output = kind, output
        self.keep_states = False
        self.states: torch.Tensor | None = None
        self.gates: dict[str, torch.Tensor] = {}
        self.cells: torch.Tensor | None = None
        self.state_taps: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.keep_states:
            seq, last = self._record(x)
        else:
            seq, h_n = self.core(x)
            if self.output == "last":
                h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # an LSTM's (h, c)
                last = torch.cat(list(h_n[-2:]), -1) if self.core.bidirectional else h_n[-1]
        if self.output == "sequence":
            return seq
        if self.output == "mean":
            return seq.mean(dim=1)
        return last

    def _record(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.core.hidden_size
        dirs = 2 if self.core.bidirectional else 1
        tap = None
        if torch.is_grad_enabled():
            tap = x.new_zeros(x.shape[0], x.shape[1], h * dirs, requires_grad=True)
        seq, traces = run_steps(self.core, self.kind, x, tap)
        self.state_taps = tap
        self.states = seq.detach()
        self.gates = {g: torch.cat([torch.stack(tr.gates[g], 1) for tr in traces], -1)
                      for g in GATES.get(self.kind, ())}
        self.cells = (torch.cat([torch.stack(tr.cells, 1) for tr in traces], -1)
                      if self.kind == "lstm" else None)
        # The forward direction ends at the last step, the backward one at the first.
        last = seq[:, -1] if dirs == 1 else torch.cat([seq[:, -1, :h], seq[:, 0, h:]], -1)
        return seq, last


def _infer(p: dict[str, Any], shapes: list[Shape], name: str) -> Shape:
    length, _ = sequence(name, shapes[0])
    width = p["hidden"] * (2 if p["bidirectional"] else 1)
    return (length, width) if p["output"] == "sequence" else (width,)


def _params(kind: str) -> tuple[Param, ...]:
    common = (
        Param("hidden", int, 32, N_("Size of the hidden state (units per direction)."),
              min=1, max=2048),
        Param("layers", int, 1, N_("Recurrent layers stacked; each reads the states of the one "
                                   "below."), min=1, max=8),
        Param("bidirectional", bool, False, N_("Also read the sequence backwards and join both "
                                               "states, so each step sees its future too.")),
        Param("output", str, "sequence", N_("The hidden state at every step (sequence), at the "
                                            "last step (last), or averaged over the steps (mean)."),
              choices=("sequence", "last", "mean")),
    )
    if kind != "rnn":
        return common
    return (*common, Param("activation", str, "tanh", N_("Applied to each new state."),
                           choices=("tanh", "relu")))


HELP = {
    "rnn": N_("A plain recurrent layer: the new state is tanh of the input and the previous "
              "state. Its memory fades over long sequences."),
    "lstm": N_("Long short-term memory: a cell state kept by forget, input and output gates, "
               "so it remembers across long sequences."),
    "gru": N_("Gated recurrent unit: reset and update gates decide what of the state to keep; "
              "lighter than an LSTM."),
}

for _kind in CORES:
    LAYERS.register(LayerType(
        name=_kind, help=HELP[_kind], params=_params(_kind),
        infer=lambda p, shapes, n=_kind: _infer(p, shapes, n),
        build=lambda p, shapes, n=_kind: Recurrent(
            n, sequence(n, shapes[0])[1], p["hidden"], p["layers"], p["bidirectional"],
            p["output"], p.get("activation", "tanh")),
        window=whole_input, category="recurrent",
    ))
