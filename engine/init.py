"""Weight initialisation: one scheme for the model, overridable per node."""

from __future__ import annotations

from torch import nn

from engine.spec import InitSpec, ModelSpec

WEIGHTED = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)
SCHEMES = {
    "xavier_uniform": lambda w, s: nn.init.xavier_uniform_(w),
    "xavier_normal": lambda w, s: nn.init.xavier_normal_(w),
    "he_uniform": lambda w, s: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "he_normal": lambda w, s: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "normal": lambda w, s: nn.init.normal_(w, 0.0, s.std),
    "uniform": lambda w, s: nn.init.uniform_(w, -s.range, s.range),
    "zeros": lambda w, s: nn.init.zeros_(w),
}


def init_module(module: nn.Module, init: InitSpec) -> None:
    if init.scheme == "default":
        return  # PyTorch's own (Kaiming-uniform with a=sqrt(5)) as each module built it
    for m in module.modules():
        if not isinstance(m, WEIGHTED):
            continue
        SCHEMES[init.scheme](m.weight, init)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def init_model(layers: nn.ModuleDict, spec: ModelSpec) -> None:
    for node in spec.nodes:
        init_module(layers[node.id], node.init or spec.init)
