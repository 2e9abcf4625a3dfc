"""What the layers over images and sequences share: input checks, output sizes, and a
convolution with its activation on one node."""

from __future__ import annotations

import math

import torch
from torch import nn

from engine.i18n import N_, t
from engine.layers.activations import make_activation
from engine.layers.base import Shape, ShapeError, one_input


def image_input(name: str, shapes: list[Shape],
                on_sequence: str = N_("this layer works on images only, so read an image "
                                      "data set")) -> Shape:
    """The one input's [channels, height, width], or a ShapeError saying what to change;
    ``on_sequence`` is the fix for a [channels, length] input (marked with N_)."""
    shape = one_input(shapes)
    if len(shape) == 3:
        return shape
    if len(shape) == 2:
        raise ShapeError(t("{name} needs an image input [channels, height, width], got "
                           "{shape}; a [channels, length] input is a sequence; {fix}",
                           name=name, shape=list(shape), fix=t(on_sequence)))
    raise ShapeError(t("{name} needs an image input [channels, height, width], got {shape}; "
                       "it must read images: an image data set, or a convolution or pooling "
                       "node placed before any flatten", name=name, shape=list(shape)))


def out_size(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    """PyTorch's output length of a convolution or pooling window along one axis."""
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


def check_span(name: str, sizes: Shape, k: int, pad: int, dilation: int = 1) -> None:
    """The window (kernel spread by dilation) must fit the input plus its padding."""
    span = dilation * (k - 1) + 1
    small = min(sizes)
    if span <= small + 2 * pad:
        return
    shown = "x".join(map(str, sizes))
    largest = (small + 2 * pad - 1) // dilation + 1
    need = math.ceil((span - small) / 2)
    kw = dict(name=name, k=k, dilation=dilation, span=span, shown=shown, pad=pad,
              largest=largest, need=need)
    if dilation > 1:
        raise ShapeError(t("{name}: kernel_size {k} (dilation {dilation}) spans {span} pixels, "
                           "more than the {shown} input plus padding {pad}; use kernel_size at "
                           "most {largest} or padding at least {need}", **kw))
    raise ShapeError(t("{name}: kernel_size {k} spans {span} pixels, more than the {shown} "
                       "input plus padding {pad}; use kernel_size at most {largest} or padding "
                       "at least {need}", **kw))


def check_groups(in_channels: int, filters: int, groups: int) -> None:
    if in_channels % groups == 0 and filters % groups == 0:
        return
    fits = [g for g in range(1, min(in_channels, filters) + 1)
            if in_channels % g == 0 and filters % g == 0]
    options = (t("{some} or {last}", some=", ".join(map(str, fits[:-1])), last=fits[-1])
               if len(fits) > 1 else "1")
    kw = dict(groups=groups, channels=in_channels, filters=filters, options=options)
    if in_channels % groups == 0:
        raise ShapeError(t("groups {groups} must divide both the {channels} input channels and "
                           "the {filters} filters; use groups {options}, or filters a multiple "
                           "of {groups} (such as {example})",
                           example=groups * max(1, filters // groups), **kw))
    raise ShapeError(t("groups {groups} must divide both the {channels} input channels and the "
                       "{filters} filters; use groups {options}", **kw))


class ConvAct(nn.Module):
    """A convolution then its activation; ``.conv`` and ``.act`` so probes can find each."""

    def __init__(self, conv: nn.Module, act: nn.Module | None) -> None:
        super().__init__()
        self.conv, self.act = conv, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x if self.act is None else self.act(x)


def with_activation(conv: nn.Module, activation: str) -> ConvAct:
    return ConvAct(conv, None if activation == "none" else make_activation(activation))
