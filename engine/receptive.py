"""Theoretical receptive fields: which input pixels can reach each unit of each node.

Per axis a node's field is three integers: ``size`` (pixels one unit sees), ``jump``
(input pixels between neighbouring units) and ``first`` (the first pixel unit 0 sees;
negative where padding reaches outside the image). Through a window of kernel k,
stride s, padding p and dilation d (span k_eff = d*(k-1)+1):

    size_out = size_in + (k_eff - 1) * jump_in
    jump_out = jump_in * s
    first_out = first_in - p * jump_in

Unit i then sees pixels first + i*jump .. first + i*jump + size - 1. ``start`` (the
centre of unit 0's field, the usual textbook quantity) is first + (size - 1) / 2.
A field that covers the whole input for every unit (dense layers, global pooling) has
jump 0, which the recurrence keeps as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.graph import INPUT, NodeInfo, Plan
from engine.i18n import N_
from engine.layers import LAYERS
from engine.layers.base import Window

PASS = "pass"  # the layer is pointwise in space: the field passes through unchanged


@dataclass(frozen=True)
class Field:
    size: tuple[int, int]
    jump: tuple[int, int]
    first: tuple[int, int]
    whole: bool = False  # every unit sees the whole input
    exact: bool = True  # False: paths with different jumps merged; the box covers them

    @property
    def start(self) -> tuple[float, float]:
        """Centre of unit 0's field, in input pixels (half pixels for even sizes)."""
        return tuple(f + (s - 1) / 2 for f, s in zip(self.first, self.size, strict=True))

    def box(self, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
        """Rows y0..y1-1 and columns x0..x1-1 of the input that unit (y, x) sees,
        clipped to the image: (y0, x0, y1, x1)."""
        (fy, fx), (jy, jx), (sy, sx) = self.first, self.jump, self.size
        y0, x0 = fy + y * jy, fx + x * jx
        return (max(y0, 0), max(x0, 0), min(y0 + sy, height), min(x0 + sx, width))

    def as_dict(self) -> dict[str, list[float]]:
        """The JSON form: size, jump and start per axis [height, width]."""
        return {"size": list(self.size), "jump": list(self.jump),
                "start": [_number(v) for v in self.start]}


def _number(v: float) -> float | int:
    return int(v) if float(v).is_integer() else float(v)


def window_of(info: NodeInfo) -> Window | str | None:
    """How a node looks at its input: a Window, PASS (pointwise in space) or None (every
    unit sees the whole input, or the output is no image). The one place that reads the
    layer registry's declaration."""
    rule = LAYERS.get(info.type).window
    return PASS if rule is None else rule(info.params, list(info.in_shapes))


def is_image(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3


def _through(f: Field, w: Window) -> Field:
    size, jump, first = [], [], []
    for a in range(2):
        span = w.dilation[a] * (w.kernel[a] - 1) + 1
        size.append(f.size[a] + (span - 1) * f.jump[a])
        jump.append(f.jump[a] * w.stride[a])
        first.append(f.first[a] - w.padding[a] * f.jump[a])
    return Field(tuple(size), tuple(jump), tuple(first), f.whole, f.exact)


def _union(fields: list[Field], out_hw: tuple[int, int]) -> Field:
    """The box covering every input's box for each unit (a merge: union over paths).

    With equal jumps that is exact; otherwise the coarsest jump is kept and the box is
    widened until it covers every path's box at every unit (``exact`` False)."""
    if len(fields) == 1:
        return fields[0]
    size, jump, first = [], [], []
    exact = all(f.exact for f in fields)
    for a in range(2):
        jumps = {f.jump[a] for f in fields}
        big = max(jumps)
        if len(jumps) > 1:
            exact = False
        last = out_hw[a] - 1
        lo = min(f.first[a] + last * (f.jump[a] - big) for f in fields)
        size.append(max(f.first[a] - lo + f.size[a] for f in fields))
        jump.append(big)
        first.append(lo)
    return Field(tuple(size), tuple(jump), tuple(first), False, exact)


def whole_field(input_shape: tuple[int, ...]) -> Field:
    return Field((input_shape[1], input_shape[2]), (0, 0), (0, 0), True)


def receptive_fields(plan: Plan) -> dict[str, Field | None]:
    """The field of the input and of every node (None where the output is no image, or the
    input is none)."""
    if not is_image(plan.input_shape):
        return {INPUT: None} | {n.id: None for n in plan.nodes}
    fields: dict[str, Field | None] = {INPUT: Field((1, 1), (1, 1), (0, 0))}
    whole = whole_field(plan.input_shape)
    for info in plan.nodes:
        if not is_image(info.out_shape):
            fields[info.id] = None
            continue
        ins = [fields[i] for i in info.inputs]
        if any(f is None for f in ins) or any(f.whole for f in ins):
            fields[info.id] = whole  # built from something that saw the whole input
            continue
        w = window_of(info)
        if w is None:
            fields[info.id] = whole
        elif w == PASS:
            fields[info.id] = _union(ins, info.out_shape[1:])
        else:
            fields[info.id] = _through(_union(ins, info.in_shapes[0][1:]), w)
    return fields


def has_convolution(plan: Plan) -> bool:
    """Whether any node slides a window over an image (what receptive fields are about)."""
    return any(isinstance(window_of(n), Window) for n in plan.nodes
               if is_image(n.out_shape) and is_image(n.in_shapes[0]))


def unit_box(plan: Plan, unit: tuple[str, int, int, int],
             fields: dict[str, Field | None] | None = None) -> tuple[int, int, int, int] | None:
    """The input pixels unit (node, channel, y, x) can see: (y0, x0, y1, x1), clipped."""
    node, _, y, x = unit
    field = (fields or receptive_fields(plan)).get(node)
    if field is None:
        return None
    return field.box(y, x, plan.input_shape[1], plan.input_shape[2])


def field_rows(plan: Plan) -> list[dict[str, Any]]:
    """Per node: id, type, output shape, parameter count and field (None where none)."""
    fields = receptive_fields(plan)
    return [{"id": n.id, "type": n.type, "output_shape": list(n.out_shape),
             "params": n.n_params, "field": fields[n.id]} for n in plan.nodes]


# Stacks of 3x3 layers that grow their fields differently: what the page compares.
GROWTH = {
    "plain": N_("3x3 convolutions, stride 1"),
    "dilated": N_("3x3 convolutions, dilation 1, 2, 4, 8, ..."),
    "strided": N_("3x3 convolutions, stride 2"),
    "pooled": N_("3x3 convolution then 2x2 pooling, repeated"),
}


def growth_curves(depth: int = 6) -> dict[str, dict[str, list[int]]]:
    """Field size and jump (pixels, per side) after 0..depth layers of each stack in
    GROWTH: {name: {"size": [...], "jump": [...]}}."""
    steps = {
        "plain": lambda i: [Window((3, 3), (1, 1), (1, 1), (1, 1))],
        "dilated": lambda i: [Window((3, 3), (1, 1), (2**i, 2**i), (2**i, 2**i))],
        "strided": lambda i: [Window((3, 3), (2, 2), (1, 1), (1, 1))],
        "pooled": lambda i: [Window((3, 3), (1, 1), (1, 1), (1, 1)),
                             Window((2, 2), (2, 2), (0, 0), (1, 1))],
    }
    out = {}
    for name, layer in steps.items():
        f = Field((1, 1), (1, 1), (0, 0))
        sizes, jumps = [1], [1]
        for i in range(depth):
            for w in layer(i):
                f = _through(f, w)
            sizes.append(f.size[0])
            jumps.append(f.jump[0])
        out[name] = {"size": sizes, "jump": jumps}
    return out
