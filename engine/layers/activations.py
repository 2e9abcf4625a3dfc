"""Activation functions, each a stand-alone node type and a Linear shorthand."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from engine.i18n import N_
from engine.layers.base import LAYERS, LayerType, one_input
from engine.params import Param


class _SignSTE(torch.autograd.Function):
    """Hard threshold forward; the identity's gradient backward (straight-through),
    so a perceptron can still be trained by gradient descent."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        return grad


class Sign(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _SignSTE.apply(x)


# name -> (module factory taking the params, help, extra params)
ACTIVATIONS: dict[str, tuple[Callable[..., nn.Module], str, tuple[Param, ...]]] = {
    "relu": (lambda: nn.ReLU(), N_("max(0, x): cheap, no saturation for x > 0, can die."), ()),
    "leaky_relu": (
        lambda negative_slope=0.01: nn.LeakyReLU(negative_slope),
        N_("x for x > 0, slope*x otherwise: a ReLU that cannot die."),
        (Param("negative_slope", float, 0.01, N_("Slope for x < 0."), min=0.0, max=1.0),),
    ),
    "elu": (lambda: nn.ELU(), N_("x for x > 0, exp(x)-1 otherwise: smooth, mean closer to 0."), ()),
    "gelu": (lambda: nn.GELU(), N_("x times the Gaussian CDF of x: the Transformer's choice."), ()),
    "silu": (lambda: nn.SiLU(), N_("x * sigmoid(x) (swish): smooth, non-monotonic."), ()),
    "tanh": (lambda: nn.Tanh(), N_("Squashes to (-1, 1), zero-centred; saturates."), ()),
    "sigmoid": (lambda: nn.Sigmoid(), N_("Squashes to (0, 1); derivative at most 0.25."), ()),
    "softplus": (lambda: nn.Softplus(), N_("log(1 + exp(x)): a smooth ReLU."), ()),
    "identity": (lambda: nn.Identity(), N_("No non-linearity: stacked layers stay linear."), ()),
    "softmax": (lambda: nn.Softmax(dim=-1),
                N_("Turns scores into probabilities (output layer)."), ()),
    "sign": (lambda: Sign(), N_("Hard threshold to -1 or +1 (the perceptron's step)."), ()),
}


def make_activation(name: str, **params: float) -> nn.Module:
    return ACTIVATIONS[name][0](**params)


def _register(name: str) -> None:
    _, help_, params = ACTIVATIONS[name]
    LAYERS.register(LayerType(
        name=name, help=help_, params=params, category="activation",
        infer=lambda p, shapes: one_input(shapes),
        build=lambda p, shapes: make_activation(name, **p),
    ))


for _name in ACTIVATIONS:
    _register(_name)
