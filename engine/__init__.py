"""Neural Playground's headless engine: specs in, trained models and snapshots out."""

from engine.errors import Issue, SpecError
from engine.spec import Experiment
from engine.trainer import Snapshot, Trainer
from engine.validate import load_experiment

__all__ = ["Experiment", "Issue", "Snapshot", "SpecError", "Trainer", "load_experiment"]
