"""The probe registry. Adding a view's data is adding one module to this package."""

import importlib
import pkgutil

from engine.probes.base import EVENTS, PROBES, Probe, probe_specs, register

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["EVENTS", "PROBES", "Probe", "probe_specs", "register"]
