"""A task is a training recipe: what one step's loss is and how a model is scored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from engine.data.base import DataBundle
from engine.i18n import N_
from engine.registry import Registry
from engine.spec import TrainSpec


class Task(Protocol):
    kind: str
    loss_name: str

    def output_problem(self, out_shape: tuple[int, ...]) -> str | None:
        """Why a model with this output shape cannot do the task (None: it can)."""

    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The training loss of one batch (a scalar tensor)."""

    def evaluate(self, model: nn.Module, x: torch.Tensor,
                 y: torch.Tensor) -> tuple[dict[str, float], torch.Tensor]:
        """Loss and metrics on a whole split, and the raw outputs (under no_grad, eval mode)."""

    def outputs_to_predictions(self, out: torch.Tensor) -> torch.Tensor:
        """Raw model outputs to what ``predict`` returns."""

    def predict(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities [N, classes] or predicted values [N, outputs]."""


@dataclass(frozen=True)
class TaskType:
    name: str
    help: str
    kinds: tuple[str, ...]  # data kinds it trains on
    losses: tuple[str, ...]

    def make(self, train: TrainSpec, data: DataBundle) -> Task:  # pragma: no cover - protocol
        raise NotImplementedError


TASKS: Registry[TaskType] = Registry(N_("task"))
