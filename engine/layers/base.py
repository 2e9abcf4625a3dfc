"""What a layer type declares, in one place: parameters, shape rule, module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from engine.params import Param
from engine.registry import Registry

Shape = tuple[int, ...]  # one sample's shape, without the batch dimension


class ShapeError(ValueError):
    """The input shapes do not fit this layer; the message says how to fix it."""


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

    @property
    def is_merge(self) -> bool:
        return self.max_inputs is None or self.max_inputs > 1


LAYERS: Registry[LayerType] = Registry("layer type")


def one_input(shapes: list[Shape]) -> Shape:
    (shape,) = shapes
    return shape
