"""The task registry. Adding a training recipe is adding one module to this package."""

import importlib
import pkgutil

from engine.tasks.base import TASKS, Task, TaskType

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["TASKS", "Task", "TaskType"]
