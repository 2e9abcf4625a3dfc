"""The model graph written as readable PyTorch: one attribute per node, one line per node in
``forward``, each with the shape it produces.

The written model computes exactly what ``GraphModel`` computes (the same operations in
the same order), and its parameters are the engine's under other names: ``key_map`` turns
an engine state-dict key into the written model's.
"""

from __future__ import annotations

import keyword
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.data.images import ImageInfo
from engine.export.model_helpers import HELPERS
from engine.graph import INPUT, NodeInfo, Plan
from engine.i18n import t


class UnsupportedLayer(ValueError):
    """A layer type the code writer has no template for; the message names it."""


# The activation of a node (or a stand-alone activation node) as a function of its input.
ACTIVATION_CODE = {
    "none": "{x}",
    "identity": "{x}",
    "relu": "F.relu({x})",
    "leaky_relu": "F.leaky_relu({x}, {negative_slope!r})",
    "elu": "F.elu({x})",
    "gelu": "F.gelu({x})",
    "silu": "F.silu({x})",
    "tanh": "torch.tanh({x})",
    "sigmoid": "torch.sigmoid({x})",
    "softplus": "F.softplus({x})",
    "softmax": "torch.softmax({x}, dim=-1)",
    "sign": "sign_ste({x})",
}

HELPER_NEEDS = {"transformer": ("multihead",)}

# Names the written code uses itself; a node id equal to one of them is renamed.
RESERVED = {"x", "self", "torch", "nn", "F", "math", "np", "super", "prepare", "forward",
            "pixel_mean", "pixel_std", "sign_ste", "sinusoidal", "Positional", "Attention",
            "MultiHeadAttention", "TransformerBlock", "SignSTE", "Model", "BatchNorm1d",
            "BatchNorm2d", "single_per_channel"}


@dataclass(frozen=True)
class Written:
    """How one node is written: its constructor (None: nothing to build), its lines in
    ``forward``, the helpers it needs, and how its engine state keys are renamed."""

    init: str | None
    lines: list[str]
    helpers: tuple[str, ...] = ()
    strip: str = ""  # prefix of the engine module's keys that the written module lacks


@dataclass(frozen=True)
class ModelCode:
    source: str  # helpers and ``class Model``
    names: dict[str, str]  # node id -> attribute and variable name
    strips: dict[str, str] = field(default_factory=dict)

    def key_map(self, engine_key: str) -> str:
        """``layers.<id>.<rest>`` of the engine's model -> the written model's key."""
        _, node, rest = engine_key.split(".", 2)
        strip = self.strips.get(node, "")
        if strip and rest.startswith(strip):
            rest = rest[len(strip):]
        return f"{self.names[node]}.{rest}"


def _act(name: str, x: str, params: dict[str, Any] | None = None) -> str:
    # A linear or convolution node's own activation takes its defaults.
    return ACTIVATION_CODE[name].format(x=x, **({"negative_slope": 0.01} | (params or {})))


def _act_helpers(name: str) -> tuple[str, ...]:
    return ("sign",) if name == "sign" else ()


def _args(*pos: Any, **named: Any) -> str:  # noqa: ANN401
    """Call arguments, leaving out named ones equal to their default (given as (v, default))."""
    out = [repr(v) for v in pos]
    for k, v in named.items():
        value, default = v if isinstance(v, tuple) else (v, object())
        if value != default:
            out.append(f"{k}={value!r}")
    return ", ".join(out)


def _linear(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
    init = f"nn.Linear({_args(n.in_shapes[0][-1], p['units'], bias=(p['bias'], True))})"
    return Written(init, [f"{me} = {_act(p['activation'], f'self.{me}({a[0]})')}"],
                   _act_helpers(p["activation"]), "linear.")


def _conv(cls: str) -> Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]:
    def write(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
        args = _args(n.in_shapes[0][0], p["filters"], kernel_size=p["kernel_size"],
                     stride=(p["stride"], 1), padding=(p["padding"], 0),
                     dilation=(p["dilation"], 1), groups=(p["groups"], 1),
                     bias=(p["bias"], True))
        return Written(f"nn.{cls}({args})",
                       [f"{me} = {_act(p['activation'], f'self.{me}({a[0]})')}"],
                       _act_helpers(p["activation"]), "conv.")
    return write


def _conv_transpose(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
    args = _args(n.in_shapes[0][0], p["filters"], kernel_size=p["kernel_size"],
                 stride=(p["stride"], 1), padding=(p["padding"], 0),
                 output_padding=(p["output_padding"], 0))
    return Written(f"nn.ConvTranspose2d({args})",
                   [f"{me} = {_act(p['activation'], f'self.{me}({a[0]})')}"],
                   _act_helpers(p["activation"]), "conv.")


def _module(make: Callable[[dict[str, Any], NodeInfo], str]
            ) -> Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]:
    """A node that is one torch module called on its inputs."""
    def write(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
        return Written(make(p, n), [f"{me} = self.{me}({', '.join(a)})"])
    return write


def _expr(make: Callable[[dict[str, Any], list[str]], str]
          ) -> Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]:
    """A node without weights, written as an expression of its inputs."""
    def write(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
        return Written(None, [f"{me} = {make(p, a)}"])
    return write


def _pool(cls: str) -> Callable[[dict[str, Any], NodeInfo], str]:
    def make(p: dict[str, Any], n: NodeInfo) -> str:
        k = p["kernel_size"]
        return f"nn.{cls}({_args(k, stride=(p['stride'] or k, k), padding=(p['padding'], 0))})"
    return make


def _recurrent(kind: str) -> Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]:
    cls = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[kind]

    def write(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
        extra = {"nonlinearity": (p.get("activation", "tanh"), "tanh")} if kind == "rnn" else {}
        init = (f"nn.{cls}({_args(n.in_shapes[0][1], p['hidden'], num_layers=(p['layers'], 1))}"
                f", batch_first=True{_tail(bidirectional=(p['bidirectional'], False), **extra)})")
        call = f"self.{me}({a[0]})"
        if p["output"] == "sequence":
            lines = [f"{me}, _ = {call}  # the hidden state at every step"]
        elif p["output"] == "mean":
            lines = [f"{me} = {call}[0].mean(dim=1)  # the hidden states averaged over the steps"]
        else:
            state = f"({me}, _)" if kind == "lstm" else me  # an LSTM returns (h, c)
            last = (f"torch.cat([{me}[-2], {me}[-1]], dim=-1)" if p["bidirectional"]
                    else f"{me}[-1]")
            lines = [f"_, {state} = {call}",
                     f"{me} = {last}  # the last step's state of the top layer"]
        return Written(init, lines, (), "core.")
    return write


def _tail(**named: Any) -> str:  # noqa: ANN401
    s = _args(**named)
    return f", {s}" if s else ""


def _attention(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
    fq = n.in_shapes[0][1]
    fk = n.in_shapes[1][1] if len(n.in_shapes) > 1 else fq
    init = f"Attention({_args(fq, fk, p['dim'], p['scoring'], p['causal'])})"
    return Written(init, [f"{me} = self.{me}({', '.join(a)})"], ("attention",))


def _multihead(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
    fq = n.in_shapes[0][1]
    fk = n.in_shapes[1][1] if len(n.in_shapes) > 1 else fq
    init = (f"MultiHeadAttention({_args(fq, fk, p['dim'], p['heads'], p['causal'])}, "
            f"dropout={p['dropout']!r})")
    return Written(init, [f"{me} = self.{me}({', '.join(a)})"], ("multihead",))


def _transformer(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
    width = n.in_shapes[0][1]
    memory = n.in_shapes[1][1] if len(n.in_shapes) > 1 else None
    init = (f"TransformerBlock({width!r}, {memory!r}, heads={p['heads']!r}, "
            f"feedforward={p['feedforward']!r}, dropout={p['dropout']!r}, norm={p['norm']!r}, "
            f"activation={p['activation']!r}, causal={p['causal']!r})")
    return Written(init, [f"{me} = self.{me}({', '.join(a)})"], ("transformer",))


def _norm_args(p: dict[str, Any], n: NodeInfo) -> str:
    return _args(n.in_shapes[0][0], momentum=(p["momentum"], 0.1))


def _batch_norm(cls: str) -> Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]:
    # The engine's own class, not nn's: PyTorch refuses a batch of one while training.
    def write(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
        return Written(f"{cls}({_norm_args(p, n)})", [f"{me} = self.{me}({a[0]})"],
                       ("batch_norm",))
    return write


def _activation(name: str) -> Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]:
    def write(p: dict[str, Any], n: NodeInfo, me: str, a: list[str]) -> Written:
        return Written(None, [f"{me} = {_act(name, a[0], p)}"], _act_helpers(name))
    return write


WRITERS: dict[str, Callable[[dict[str, Any], NodeInfo, str, list[str]], Written]] = {
    "linear": _linear,
    "conv2d": _conv("Conv2d"),
    "conv1d": _conv("Conv1d"),
    "conv_transpose2d": _conv_transpose,
    "maxpool2d": _module(_pool("MaxPool2d")),
    "avgpool2d": _module(_pool("AvgPool2d")),
    "adaptive_avgpool2d": _module(lambda p, n: f"nn.AdaptiveAvgPool2d({p['output_size']!r})"),
    "adaptive_maxpool2d": _module(lambda p, n: f"nn.AdaptiveMaxPool2d({p['output_size']!r})"),
    "global_avgpool": _expr(lambda p, a: f"torch.flatten(F.adaptive_avg_pool2d({a[0]}, 1), 1)"),
    "flatten": _expr(lambda p, a: f"torch.flatten({a[0]}, 1)"),
    "dropout": _module(lambda p, n: f"nn.Dropout({p['p']!r})"),
    "dropout2d": _module(lambda p, n: f"nn.Dropout2d({p['p']!r})"),
    "batchnorm1d": _batch_norm("BatchNorm1d"),
    "batchnorm2d": _batch_norm("BatchNorm2d"),
    "layernorm": _module(lambda p, n: f"nn.LayerNorm({n.in_shapes[0][-1]!r})"),
    "add": _expr(lambda p, a: " + ".join(a)),
    "multiply": _expr(lambda p, a: " * ".join(a)),
    "concat": _expr(lambda p, a: f"torch.cat([{', '.join(a)}], dim=1)"),
    "upsample": _module(lambda p, n: (
        f"nn.Upsample(scale_factor={p['scale_factor']!r}, mode='nearest')"
        if p["mode"] == "nearest" else
        f"nn.Upsample(scale_factor={p['scale_factor']!r}, mode='bilinear', "
        "align_corners=False)")),
    "embedding": _module(lambda p, n: f"nn.Embedding({p['vocab_size']!r}, {p['dim']!r})"),
    "positional": _module(lambda p, n: f"Positional({_args(*n.in_shapes[0], p['kind'])})"),
    "rnn": _recurrent("rnn"),
    "lstm": _recurrent("lstm"),
    "gru": _recurrent("gru"),
    "attention": _attention,
    "multihead_attention": _multihead,
    "transformer_encoder": _transformer,
    "transformer_decoder": _transformer,
    **{name: _activation(name) for name in ACTIVATION_CODE if name != "none"},
}
# Helpers a node type needs whatever its parameters.
TYPE_HELPERS = {"positional": ("positional",)}
# Embedding reads token ids; the data may hold them as another integer type.
TOKEN_INPUT = {"embedding"}


def supported_layers() -> list[str]:
    return sorted(WRITERS)


def check_supported(plan: Plan) -> None:
    """Raise UnsupportedLayer naming every layer type of ``plan`` the writer lacks."""
    missing = sorted({n.type for n in plan.nodes if n.type not in WRITERS})
    if missing:
        raise UnsupportedLayer(t(
            "The script export cannot write the layer type {types} yet; export it as ONNX "
            "instead, or replace that layer.", types=", ".join(missing)))


def _names(plan: Plan) -> dict[str, str]:
    out: dict[str, str] = {}
    taken = set(RESERVED) | set(plan.parts)
    for n in plan.nodes:
        name = n.id.replace("-", "_")
        while keyword.iskeyword(name) or name in taken:
            name += "_"
        taken.add(name)
        out[n.id] = name
    return out


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def model_code(plan: Plan, image: ImageInfo | None) -> ModelCode:
    """``class Model`` for ``plan`` (with its helpers); UnsupportedLayer for a layer type
    the writer cannot write."""
    check_supported(plan)
    names = _names(plan)
    var = {INPUT: "x"} | {part: part for part in plan.parts} | names
    inits: list[str] = []
    body: list[str] = []
    helpers: list[str] = []
    strips: dict[str, str] = {}
    for n in plan.nodes:
        me = names[n.id]
        args = [var[s] for s in n.inputs]
        if n.type in TOKEN_INPUT:
            args = [f"{args[0]}.long()"]
        w = WRITERS[n.type](n.params, n, me, args)
        for h in (*TYPE_HELPERS.get(n.type, ()), *w.helpers):
            for need in (*HELPER_NEEDS.get(h, ()), h):
                if need not in helpers:
                    helpers.append(need)
        label = n.type if me == n.id else f"{n.type} (node {n.id})"
        if w.init is not None:
            inits.append(f"self.{me} = {w.init}" + ("" if me == n.id else f"  # node {n.id}"))
        body.append(f"# {me}: {label} -> {_shape(n.out_shape)}")
        body.extend(w.lines)
        if w.strip:
            strips[n.id] = w.strip
    body.append(f"return {names[plan.output_id]}")

    head: list[str] = []
    if image is not None:
        c = image.channels
        head += [
            "# Images arrive as 0-255 bytes and are scaled with the training split's",
            "# statistics per channel.",
            f"self.register_buffer('pixel_mean', torch.tensor({list(image.mean)!r}).view(1, {c},"
            " 1, 1), persistent=False)",
            f"self.register_buffer('pixel_std', torch.tensor({list(image.std)!r}).view(1, {c},"
            " 1, 1), persistent=False)",
        ]
    prep = []
    if image is not None:
        prep = ["x = self.prepare(x)"]
    if plan.parts:
        spans = ", ".join(f"x[:, {a}:{b}]" for a, b in plan.parts.values())
        prep.append(f"{', '.join(plan.parts)} = {spans}  # the named inputs, side by side in x")

    lines = ["class Model(nn.Module):",
             f'    """Input {_shape(plan.input_shape)} per example; one attribute per node of '
             'the graph."""', "",
             "    def __init__(self):", "        super().__init__()"]
    lines += [f"        {s}" for s in head + inits]
    if image is not None:
        lines += ["", "    def prepare(self, x):",
                  '        """0-255 pixels (uint8) to model input; float input is taken as '
                  'prepared."""',
                  "        if x.dtype != torch.uint8:", "            return x",
                  "        return (x.float() / 255.0 - self.pixel_mean) / self.pixel_std"]
    lines += ["", "    def forward(self, x):"]
    lines += [f"        {s}" for s in prep + body]
    source = "".join(textwrap.dedent(HELPERS[h]).strip() + "\n\n\n" for h in helpers)
    return ModelCode(source + "\n".join(lines) + "\n", names, strips)
