"""The layer registry. Adding a layer type is adding one module to this package."""

import importlib
import pkgutil

from engine.layers.base import LAYERS, LayerType, Shape, ShapeError, Window

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["LAYERS", "LayerType", "Shape", "ShapeError", "Window"]
