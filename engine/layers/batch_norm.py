"""Batch normalisation that survives a batch of one.

PyTorch refuses to normalise over a single value per channel while training ("Expected
more than 1 value per channel"), which is what a batch size of 1, or the last batch of an
epoch holding one sample, gives a flat layer. Such a batch has no spread of its own, so it
is normalised as in evaluation, by the running statistics (which it leaves unchanged).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _single(x: torch.Tensor) -> bool:
    return x.numel() <= x.shape[1]  # one value per channel over the batch and positions


def _by_running_stats(bn: nn.modules.batchnorm._BatchNorm, x: torch.Tensor) -> torch.Tensor:
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0,
                        bn.eps)


class BatchNorm1d(nn.BatchNorm1d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and _single(x):
            return _by_running_stats(self, x)
        return super().forward(x)


class BatchNorm2d(nn.BatchNorm2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and _single(x):
            return _by_running_stats(self, x)
        return super().forward(x)
