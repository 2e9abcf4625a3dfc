"""Race torch.optim's optimizers across a 2-D loss surface.

The race drives the real ``torch.optim`` classes on a 2-element parameter, so
what a student sees is what their networks get. Next to it live textbook
update rules in plain numpy; the tests hold the torch paths to them, which
pins down what each PyTorch optimizer actually computes.

Learning rates: every surface carries a tuned rate per optimizer (the rates
that suit SGD and Adam differ by orders of magnitude, so one shared rate would
make one of them look absurd). ``lr`` overrides some or all of them and
``lr_scale`` multiplies whatever results, which is what a single slider moves.

``momentum`` is the one "beta" knob: SGD's momentum for momentum and Nesterov,
and beta1 for Adam and AdamW (the same running average of gradients).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from engine.lab.surfaces import Surface, get_surface

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
LABELS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
          "rmsprop": "RMSProp", "adam": "Adam", "adamw": "AdamW"}
BETA2 = 0.999  # Adam's and AdamW's second-moment decay (PyTorch default)
RMS_ALPHA = 0.99  # RMSProp's decay (PyTorch default)
EPS = {"adagrad": 1e-10, "rmsprop": 1e-8, "adam": 1e-8, "adamw": 1e-8}  # PyTorch defaults

Point = tuple[float, float]
Rule = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (p, grad) -> new p


@dataclass(frozen=True)
class Run:
    name: str
    lr: float
    path: np.ndarray  # (k+1, 2): the start, then the point after each step
    loss: np.ndarray  # (k+1,): f at each point of the path
    diverged: bool  # True: stopped early because the next point was not finite


def learning_rates(surface: str | Surface, optimizers: Iterable[str] = OPTIMIZERS,
                   lr: float | Mapping[str, float] | None = None,
                   lr_scale: float = 1.0) -> dict[str, float]:
    """Effective rate per optimizer: ``lr`` (one number for all, or some names), else the
    surface's tuned rate, times ``lr_scale``."""
    s = surface if isinstance(surface, Surface) else get_surface(surface)
    out = {}
    for name in optimizers:
        if name not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
        one = isinstance(lr, int | float)
        out[name] = (float(lr) if one else (lr or {}).get(name, s.lr[name])) * lr_scale
    return out


def _torch_optimizer(name: str, params: list[torch.Tensor], lr: float, momentum: float,
                     weight_decay: float) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name in ("momentum", "nesterov"):
        # PyTorch refuses Nesterov without momentum; with momentum 0 both are plain SGD.
        return torch.optim.SGD(params, lr=lr, momentum=momentum,
                               nesterov=name == "nesterov" and momentum > 0)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=RMS_ALPHA)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(momentum, BETA2))
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(momentum, BETA2),
                                 weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def _torch_rule(s: Surface, start: Point, name: str, lr: float, momentum: float,
                weight_decay: float) -> Rule:
    # float64 so the comparison with the numpy reference is about the update rule,
    # not about float32 rounding.
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = _torch_optimizer(name, [p], lr, momentum, weight_decay)

    def step(_: np.ndarray, __: np.ndarray) -> np.ndarray:
        opt.zero_grad()
        s.f(p[0], p[1]).backward()
        opt.step()
        return p.detach().numpy().copy()

    return step


def _walk(s: Surface, start: Point, steps: int, rule: Rule, name: str, lr: float,
          use_grad: bool) -> Run:
    p = np.asarray(start, dtype=np.float64)
    path, loss = [p], [float(s.f(*p))]
    diverged = False
    with np.errstate(all="ignore"):  # overflow is how divergence shows; it is caught below
        for _ in range(steps):
            g = np.array(s.grad(*p), dtype=np.float64) if use_grad else p
            p = rule(p, g)
            fp = float(s.f(*p))
            if not (np.all(np.isfinite(p)) and np.isfinite(fp)):
                diverged = True
                break
            path.append(p)
            loss.append(fp)
    return Run(name, lr, np.array(path), np.array(loss), diverged)


def _check(steps: int, momentum: float) -> None:
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")


def race(surface: str, start: Point | None = None, steps: int = 100,
         optimizers: Iterable[str] = OPTIMIZERS, lr: float | Mapping[str, float] | None = None,
         lr_scale: float = 1.0, momentum: float = 0.9, weight_decay: float = 0.01,
         ) -> dict[str, Run]:
    """Run each optimizer from the same start for ``steps`` steps with torch.optim."""
    _check(steps, momentum)
    s = get_surface(surface)
    start = tuple(start) if start is not None else s.start
    rates = learning_rates(s, optimizers, lr, lr_scale)
    return {n: _walk(s, start, steps, _torch_rule(s, start, n, r, momentum, weight_decay),
                     n, r, use_grad=False)
            for n, r in rates.items()}


def diverged_at(run: Run, fmin: float = 0.0, ceiling: float = math.inf) -> int | None:
    """The step from which the run never came back below ``ceiling`` (the highest gap
    on the map), or where it stopped on a non-finite value; None: it did not diverge.

    A path can run off to 1e246 without ever overflowing, so "not finite" alone would
    miss it; a path that only overshoots for a while and comes back is not diverged."""
    above = (run.loss - fmin) > ceiling
    if not run.diverged and not above[-1]:
        return None
    below = np.flatnonzero(~above)
    return int(below[-1]) + 1 if len(below) else 0


def summary(runs: Mapping[str, Run], fmin: float = 0.0, tol: float = 1e-3,
            ceiling: float = math.inf) -> list[dict]:
    """One row per run: its rate, where it ended, its final gap to the minimum, the
    first step at which that gap fell below ``tol`` (None: never), and the step at which
    it diverged (None: it did not; see ``diverged_at``)."""
    rows = []
    for r in runs.values():
        gap = r.loss - fmin
        hit = np.flatnonzero(gap < tol)
        gone = diverged_at(r, fmin, ceiling)
        rows.append({"optimizer": LABELS.get(r.name, r.name), "lr": r.lr,
                     "x": float(r.path[-1, 0]), "y": float(r.path[-1, 1]),
                     "gap": float(gap[-1]), "steps_to_tol": int(hit[0]) if len(hit) else None,
                     "diverged": gone is not None, "diverged_at": gone})
    return rows


# --- Reference: the update rules as written in textbooks, in numpy -----------------------

def reference_rule(name: str, lr: float, momentum: float = 0.9,
                   weight_decay: float = 0.01) -> Rule:
    """One optimizer's update as a function (p, g) -> new p, keeping its own state."""
    t = 0
    buf = None  # momentum's velocity
    acc = m = v = 0.0  # AdaGrad's / RMSProp's squared-gradient sum; Adam's moments

    def step(p: np.ndarray, g: np.ndarray) -> np.ndarray:
        nonlocal t, buf, acc, m, v
        t += 1
        if name == "sgd" or (name in ("momentum", "nesterov") and momentum == 0):
            return p - lr * g
        if name in ("momentum", "nesterov"):
            # PyTorch's heavy ball: v <- mu v + g, p <- p - lr v, with v starting at g
            # (not the Sutskever form v <- mu v - lr g; they agree while lr is constant).
            buf = g.copy() if buf is None else momentum * buf + g
            # Nesterov as PyTorch formulates it: step along g + mu v, i.e. the
            # gradient plus a look-ahead of the velocity, without a second evaluation.
            return p - lr * (g + momentum * buf if name == "nesterov" else buf)
        if name == "adagrad":
            acc = acc + g**2  # every gradient ever seen: the step size only shrinks
            return p - lr * g / (np.sqrt(acc) + EPS[name])
        if name == "rmsprop":
            acc = RMS_ALPHA * acc + (1 - RMS_ALPHA) * g**2  # forgets, unlike AdaGrad
            return p - lr * g / (np.sqrt(acc) + EPS[name])
        if name in ("adam", "adamw"):
            if name == "adamw":
                p = p * (1 - lr * weight_decay)  # decoupled: not folded into g
            m = momentum * m + (1 - momentum) * g
            v = BETA2 * v + (1 - BETA2) * g**2
            # Bias correction: m and v start at 0, so early averages are too small.
            m_hat, v_hat = m / (1 - momentum**t), v / (1 - BETA2**t)
            return p - lr * m_hat / (np.sqrt(v_hat) + EPS[name])
        raise ValueError(f"unknown optimizer {name!r}")

    return step


def reference_race(surface: str, start: Point | None = None, steps: int = 100,
                   optimizers: Iterable[str] = OPTIMIZERS,
                   lr: float | Mapping[str, float] | None = None, lr_scale: float = 1.0,
                   momentum: float = 0.9, weight_decay: float = 0.01) -> dict[str, Run]:
    """``race`` with the numpy rules and the surface's hand-written gradient."""
    _check(steps, momentum)
    s = get_surface(surface)
    start = tuple(start) if start is not None else s.start
    rates = learning_rates(s, optimizers, lr, lr_scale)
    return {n: _walk(s, start, steps, reference_rule(n, r, momentum, weight_decay),
                     n, r, use_grad=True)
            for n, r in rates.items()}
