"""What a layer type declares, in one place: parameters, shape rule, module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from torch import nn

from engine.i18n import N_
from engine.params import Param
from engine.registry import Registry

Shape = tuple[int, ...]  # one sample's shape, without the batch dimension


class ShapeError(ValueError):
    """The input shapes do not fit this layer; the message says how to fix it."""


class Window(NamedTuple):
    """The window each output position reads from its input, per axis (height, width):
    what a receptive field needs of a convolution or pooling layer."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int] = (1, 1)


# A layer's window from its parameters and input shapes. The function returns None when
# every output unit sees its whole input (or the output is no image any more).
WindowRule = Callable[[dict[str, Any], list[Shape]], Window | None]


@dataclass(frozen=True)
class LayerType:
    name: str
    help: str
    params: tuple[Param, ...]
    infer: Callable[[dict[str, Any], list[Shape]], Shape]
    build: Callable[[dict[str, Any], list[Shape]], nn.Module]
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number (merge nodes)
    category: str = "core"
    # None: pointwise in space (activations, normalisation, dropout, merges), so a
    # receptive field passes through unchanged.
    window: WindowRule | None = None

    @property
    def is_merge(self) -> bool:
        return self.max_inputs is None or self.max_inputs > 1


LAYERS: Registry[LayerType] = Registry(N_("layer type"))
# The categories' names as the pages show them (``t(lt.category)``).
CATEGORIES = (N_("core"), N_("activation"), N_("convolution"), N_("regularisation"),
              N_("merge"), N_("recurrent"), N_("sequence"), N_("attention"))


def one_input(shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    return shape


def whole_input(params: dict[str, Any], shapes: list[Shape]) -> Window | None:
    """The window rule of a layer whose every output unit sees its whole input."""
    return None


def square(k: int, stride: int, padding: int, dilation: int = 1) -> Window:
    return Window((k, k), (stride, stride), (padding, padding), (dilation, dilation))
