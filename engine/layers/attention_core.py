"""Attention modules whose weights can be shown: single-head (additive or scaled
dot-product scoring) and multi-head attention.

While ``keep_attention`` is True, a forward pass computes the weights explicitly, uses those
very weights for its output and keeps them in ``attention_maps`` ({"self" or "cross":
[batch, heads, queries, keys]}). Otherwise multi-head attention runs PyTorch's fused
kernel, which never materialises the weights.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def causal_allowed(tq: int, tk: int, device: torch.device) -> torch.Tensor:
    """True where query i may read key j: j <= i (the future is hidden)."""
    return torch.ones(tq, tk, dtype=torch.bool, device=device).tril()


class Recording(nn.Module):
    """The recording switch and what it keeps, shared by every attention-bearing module."""

    def __init__(self) -> None:
        super().__init__()
        self.keep_attention = False
        self.attention_maps: dict[str, torch.Tensor] = {}


def _weights(scores: torch.Tensor, causal: bool) -> torch.Tensor:
    if causal:
        allowed = causal_allowed(scores.shape[-2], scores.shape[-1], scores.device)
        scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1)


class Attention(Recording):
    """One head. Dot scoring: q·k/√d; additive (Bahdanau): vᵀ tanh(W_q q + W_k k)."""

    def __init__(self, q_features: int, kv_features: int, dim: int, scoring: str,
                 causal: bool, key: str) -> None:
        super().__init__()
        self.scoring, self.causal, self.key, self.dim = scoring, causal, key, dim
        additive = scoring == "additive"
        self.q_proj = nn.Linear(q_features, dim, bias=not additive)
        self.k_proj = nn.Linear(kv_features, dim)
        self.v_proj = nn.Linear(kv_features, dim)
        self.score = nn.Linear(dim, 1, bias=False) if additive else None

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        context = x if context is None else context
        q, k, v = self.q_proj(x), self.k_proj(context), self.v_proj(context)
        if self.score is not None:  # [B, Tq, 1, d] + [B, 1, Tk, d] -> [B, Tq, Tk]
            scores = self.score(torch.tanh(q.unsqueeze(2) + k.unsqueeze(1))).squeeze(-1)
        else:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.dim)
        w = _weights(scores, self.causal)
        if self.keep_attention:
            self.attention_maps = {self.key: w.detach().unsqueeze(1)}
        return w @ v


class MultiHeadAttention(Recording):
    """Heads of scaled dot-product attention over projections of width ``dim``, merged by
    an output projection."""

    def __init__(self, q_features: int, kv_features: int, dim: int, heads: int,
                 causal: bool, dropout: float, key: str) -> None:
        super().__init__()
        self.heads, self.causal, self.dropout, self.key = heads, causal, dropout, key
        self.q_proj = nn.Linear(q_features, dim)
        self.k_proj = nn.Linear(kv_features, dim)
        self.v_proj = nn.Linear(kv_features, dim)
        self.out_proj = nn.Linear(dim, dim)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, dim] -> [B, heads, T, dim / heads]."""
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def merge(self, x: torch.Tensor) -> torch.Tensor:
        """[B, heads, T, d] -> [B, T, heads * d], then the output projection."""
        b, h, n, d = x.shape
        return self.out_proj(x.transpose(1, 2).reshape(b, n, h * d))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        context = x if context is None else context
        q = self.split(self.q_proj(x))
        k = self.split(self.k_proj(context))
        v = self.split(self.v_proj(context))
        p = self.dropout if self.training else 0.0
        if self.keep_attention:
            w = _weights(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), self.causal)
            self.attention_maps = {self.key: w.detach()}
            return self.merge(F.dropout(w, p) @ v if p else w @ v)
        tq, tk = q.shape[-2], k.shape[-2]
        if self.causal and tq != tk:  # the fused kernel's is_causal assumes a square mask
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=causal_allowed(tq, tk, q.device), dropout_p=p)
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=self.causal)
        return self.merge(out)
