"""What an image model computes for one image, read straight from a GraphModel:
every node's output (feature maps), the learned filters, the input gradient and
Grad-CAM, and the confusion matrix and most confident mistakes over a split.

The functions take model input already prepared (``model.prepare``: float, normalised),
switch the model to eval mode for their duration, and return numpy arrays (float32)
on the CPU. They run the graph node by node, so no hook is armed on the model and
the training steps around them pay nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.graph import GraphModel, NodeInfo, Plan
from engine.layers import LAYERS

MAX_CHANNELS = 64  # feature maps and filters kept per node: more are unreadable on a page
# Layer categories whose image output is worth looking at as feature maps.
MAP_CATEGORIES = ("convolution", "pooling", "activation")


@contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (dropout off, batch norm on its running statistics), restored after."""
    was = model.training
    model.train(False)
    try:
        yield
    finally:
        model.train(was)


def is_image(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3


def map_nodes(plan: Plan) -> list[NodeInfo]:
    """Convolution, pooling and activation nodes whose output is an image [C, h, w]."""
    return [n for n in plan.nodes if is_image(n.out_shape) and n.type in LAYERS
            and LAYERS.get(n.type).category in MAP_CATEGORIES]


def conv_of(module: nn.Module) -> nn.Conv2d | None:
    """The 2-D convolution inside a node's module (a conv node may add its activation)."""
    return next((m for m in module.modules() if isinstance(m, nn.Conv2d)), None)


def conv_nodes(model: GraphModel) -> list[tuple[NodeInfo, nn.Conv2d]]:
    """Every node that is a 2-D convolution with an image output, in graph order."""
    out = []
    for info in model.plan.nodes:
        conv = conv_of(model.layers[info.id])
        if conv is not None and is_image(info.out_shape):
            out.append((info, conv))
    return out


def run_nodes(model: GraphModel, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every node's output for the batch ``x`` (stored or prepared input), keyed by node id;
    ``input`` is the prepared input. Gradients flow when the caller enables them."""
    outs = model.sources(x)
    for info in model.plan.nodes:
        outs[info.id] = model.layers[info.id](*[outs[s] for s in info.inputs])
    return outs


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def feature_maps(model: GraphModel, x: torch.Tensor,
                 most: int = MAX_CHANNELS) -> tuple[torch.Tensor, list[dict]]:
    """The model output for one image ``x`` [1, C, H, W] and, for every map node, its
    output: ``{"id", "type", "maps": float32 [channels (at most ``most``), h, w]}``."""
    with evaluating(model), torch.no_grad():
        outs = run_nodes(model, x)
    nodes = [{"id": n.id, "type": n.type, "maps": _numpy(outs[n.id][0, :most])}
             for n in map_nodes(model.plan)]
    return outs[model.plan.output_id], nodes


def filters(model: GraphModel, most: int = MAX_CHANNELS) -> list[dict]:
    """Every convolution's weights: ``{"id", "weights": float32 [out (at most ``most``),
    in / groups, kh, kw]}``."""
    # A copy: on the CPU the array would otherwise share the parameter's memory and go on
    # changing under the reader as training proceeds.
    return [{"id": info.id, "weights": _numpy(conv.weight[:most].detach().clone())}
            for info, conv in conv_nodes(model)]


def class_score(out: torch.Tensor, target: int) -> torch.Tensor:
    """The score of class ``target`` in the model output [1, K]: its logit; with a single
    logit (binary cross-entropy) the logit for class 1 and its negative for class 0."""
    if out.shape[1] == 1:
        return out[0, 0] if target == 1 else -out[0, 0]
    return out[0, target]


def predicted_class(out: torch.Tensor) -> int:
    """The class a model output [1, K] picks."""
    if out.shape[1] == 1:
        return int(out[0, 0] > 0)
    return int(out[0].argmax())


def saliency(model: GraphModel, x: torch.Tensor, target: int | None = None) -> dict:
    """Which pixels decided the answer for one image ``x`` [1, C, H, W]:

    - ``gradient``: |d score / d input| (input as the model sees it), the largest over
      channels, float32 [H, W];
    - ``gradcam``: Grad-CAM on the last convolution node: its channels weighted by the mean
      gradient of the score over each channel, summed, ReLU'd and upsampled bilinearly to
      [H, W] (None without a convolution);
    - ``target``: the class explained (``target``, else the predicted class);
      ``gradcam_node``: the node Grad-CAM looked at; ``output``: the model output [1, K].

    One forward and one backward pass; parameters' ``.grad`` is left untouched."""
    convs = conv_nodes(model)
    last = convs[-1][0].id if convs else None
    with evaluating(model), torch.enable_grad():
        xin = model.prepare(x).detach().float().requires_grad_(True)
        outs = run_nodes(model, xin)
        out = outs[model.plan.output_id]
        cls = predicted_class(out) if target is None else int(target)
        wrt = [xin] + ([outs[last]] if last is not None else [])
        grads = torch.autograd.grad(class_score(out, cls), wrt, allow_unused=True)
    gx = grads[0] if grads[0] is not None else torch.zeros_like(xin)
    gradient = gx[0].abs().amax(0)
    cam = None
    if last is not None:
        act = outs[last].detach()
        g = grads[1] if grads[1] is not None else torch.zeros_like(act)
        weights = g.mean(dim=(2, 3), keepdim=True)
        cam = F.relu((weights * act).sum(1, keepdim=True))
        cam = F.interpolate(cam, size=tuple(xin.shape[-2:]), mode="bilinear",
                            align_corners=False)[0, 0]
    return {"target": cls, "gradient": _numpy(gradient),
            "gradcam": None if cam is None else _numpy(cam), "gradcam_node": last,
            "output": out.detach()}


def confusion(true: torch.Tensor, pred: torch.Tensor, classes: int) -> np.ndarray:
    """Counts [true, predicted] (rows true, columns predicted), int64."""
    idx = true.long() * classes + pred.long()
    return torch.bincount(idx, minlength=classes * classes).reshape(
        classes, classes).cpu().numpy()


def mixed_sample(y: np.ndarray, most: int, seed: int = 0) -> np.ndarray:
    """Up to ``most`` indices of ``y``, seeded, the classes taking turns (one of each class,
    then a second of each, ...), so a small grid shows every class."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    per = [rng.permutation(np.flatnonzero(y == c)) for c in np.unique(y)]
    out: list[int] = []
    for rank in range(max((len(p) for p in per), default=0)):
        out += [int(p[rank]) for p in per if rank < len(p)]
        if len(out) >= most:
            break
    return np.asarray(out[:most], np.int64)


def predictions(probs: torch.Tensor, y: torch.Tensor, sample: np.ndarray,
                most_wrong: int = 16) -> dict:
    """Predictions over a split from class probabilities [N, K] and labels [N]:
    the sample's true and predicted classes with the predicted class's probability, the
    confusion matrix, and the ``most_wrong`` most confidently wrong (most confident first)."""
    sample = np.array(sample, np.int64)  # a copy: the result's arrays are its own
    conf, pred = probs.max(1)
    wrong = torch.nonzero(pred != y).flatten()
    order = torch.argsort(conf[wrong], descending=True, stable=True)[:most_wrong]
    wrong = wrong[order]
    s = torch.from_numpy(sample).to(probs.device)
    return {"indices": sample,
            "true": y[s].cpu().numpy().astype(np.int64),
            "pred": pred[s].cpu().numpy().astype(np.int64),
            "confidence": _numpy(conf[s]),
            "confusion": confusion(y, pred, probs.shape[1]),
            "wrong": wrong.cpu().numpy().astype(np.int64),
            "wrong_pred": pred[wrong].cpu().numpy().astype(np.int64),
            "wrong_confidence": _numpy(conf[wrong])}


def to_pixels(x: torch.Tensor, model: GraphModel) -> np.ndarray:
    """Prepared input [1, C, H, W] back to 0-1 pixels, float32 [C, H, W]."""
    from engine.data.images import unprepare

    x = x.detach().float()
    if model.image is not None:
        return _numpy(unprepare(x, model.image)[0])
    lo, hi = x.amin(), x.amax()  # no statistics: stretch what is there over 0-1
    return _numpy(((x - lo) / (hi - lo).clamp_min(1e-12))[0])
