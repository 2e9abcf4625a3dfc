"""Classification and regression: one recipe, predict the target from the input."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.data.base import DataBundle
from engine.i18n import N_, t
from engine.spec import TrainSpec
from engine.tasks.base import TASKS, TaskType

EVAL_CHUNK = 8192  # rows per forward pass when scoring a whole split


class Supervised:
    def __init__(self, kind: str, loss_name: str, n_outputs: int,
                 positions: int | None = None) -> None:
        """``positions``: classification targets [N, positions] (one class per position of a
        sequence) instead of [N]; outputs are then [N, positions, classes]."""
        self.kind, self.loss_name, self.n_outputs = kind, loss_name, n_outputs
        self.units = 1 if loss_name == "bce" else n_outputs
        self.positions = positions if kind == "classification" else None
        self.shape = (self.units,) if self.positions is None else (self.positions, self.units)
        self.chunk = EVAL_CHUNK  # rows per scoring pass; the trainer sets it from the model

    def output_problem(self, out_shape: tuple[int, ...]) -> str | None:
        if out_shape != self.shape:
            kw = dict(shape=list(out_shape), n=self.n_outputs, units=self.units,
                      positions=self.positions, need=list(self.shape))
            if self.positions is not None:
                return t("the model's output has shape {shape}, but {positions} positions with "
                         "one logit each need shape {need}: keep all {positions} steps and set "
                         "the last layer's units to {units}", **kw) if self.loss_name == "bce" \
                    else t("the model's output has shape {shape}, but {positions} positions "
                           "with {n} classes each need shape {need}: keep all {positions} "
                           "steps and set the last layer's units to {units}", **kw)
            if self.loss_name == "bce":
                text = N_("the model's output has shape {shape}, but binary cross-entropy (one "
                          "logit) needs shape [{units}]; set the last layer's units to {units}")
            elif self.kind == "classification":
                text = N_("the model's output has shape {shape}, but {n} classes need shape "
                          "[{units}]; set the last layer's units to {units}")
            elif self.n_outputs == 1:
                text = N_("the model's output has shape {shape}, but one target value needs "
                          "shape [{units}]; set the last layer's units to {units}")
            else:
                text = N_("the model's output has shape {shape}, but {n} target values need "
                          "shape [{units}]; set the last layer's units to {units}")
            return t(text, **kw)
        return None

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        name = self.loss_name
        if self.kind == "classification":
            if name == "cross_entropy":
                # Sequence outputs [N, T, C] score every position: classes on the last axis.
                return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
            if name == "bce":
                return F.binary_cross_entropy_with_logits(out.squeeze(-1), y.float())
            y = F.one_hot(y, self.n_outputs).float()  # a squared loss on class labels
        if name == "mse":
            return F.mse_loss(out, y)
        if name == "mae":
            return F.l1_loss(out, y)
        return F.huber_loss(out, y)

    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._loss(model(x), y)

    def predict(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([model(x[i:i + self.chunk]) for i in range(0, len(x), self.chunk)])
        return self.outputs_to_predictions(out)

    def outputs_to_predictions(self, out: torch.Tensor) -> torch.Tensor:
        if self.kind != "classification":
            return out
        if self.loss_name == "bce":
            p = torch.sigmoid(out)
            return torch.cat([1 - p, p], dim=-1)
        return torch.softmax(out, dim=-1) if self.loss_name == "cross_entropy" else out

    def evaluate(self, model: nn.Module, x: torch.Tensor,
                 y: torch.Tensor) -> tuple[dict[str, float], torch.Tensor]:
        total, n = 0.0, len(x)
        outs = []
        for i in range(0, n, self.chunk):
            out = model(x[i:i + self.chunk])
            total += self._loss(out, y[i:i + self.chunk]).item() * len(out)
            outs.append(out)
        out = torch.cat(outs)
        metrics = {"loss": total / max(n, 1)}
        if self.kind == "classification":
            pred = (out.squeeze(-1) > 0).long() if self.loss_name == "bce" else out.argmax(-1)
            right = pred == y
            metrics["accuracy"] = right.float().mean().item()  # per token for sequences
            if self.positions is not None:
                metrics["sequence_accuracy"] = right.all(1).float().mean().item()
        else:
            metrics["mae"] = (out - y).abs().mean().item()
            var = ((y - y.mean(0)) ** 2).sum().item()
            metrics["r2"] = 1 - ((out - y) ** 2).sum().item() / var if var > 0 else 0.0
        return metrics, out


@dataclass(frozen=True)
class SupervisedType(TaskType):
    def make(self, train: TrainSpec, data: DataBundle) -> Supervised:
        kind = train.task or data.kind
        loss = train.loss or ("cross_entropy" if kind == "classification" else "mse")
        positions = data.y_train.shape[1] if data.y_train.dim() == 2 else None
        return Supervised(kind, loss, data.n_outputs, positions)


for _kind, _help, _losses in (
        ("classification", N_("Predict the classification target from the inputs."),
         ("cross_entropy", "bce", "mse")),
        ("regression", N_("Predict the regression target from the inputs."),
         ("mse", "mae", "huber"))):
    TASKS.register(SupervisedType(_kind, _help, (_kind,), _losses))
