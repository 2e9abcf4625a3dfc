"""Shape checks shared by the sequence layers: what a sequence is, and how heads divide a
width."""

from __future__ import annotations

from engine.i18n import N_, t
from engine.layers.base import Shape, ShapeError


def sequence(name: str, shape: Shape) -> tuple[int, int]:
    """(length, features) of a sequence input, or a ShapeError that says what to add."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 1:
        text = N_("{name} needs a sequence [length, features], got {shape}; for token ids "
                  "[length] put an embedding node before it; for a flat vector use linear")
    elif len(shape) == 3:
        text = N_("{name} needs a sequence [length, features], got {shape}; an image "
                  "[channels, height, width] is no sequence; use conv2d for it")
    else:
        text = N_("{name} needs a sequence [length, features], got {shape}; read a data set "
                  "of sequences")
    raise ShapeError(t(text, name=name, shape=list(shape)))


def nearest_multiple(width: int, heads: int) -> int:
    """The multiple of ``heads`` closest to ``width`` (the larger one on a tie)."""
    low = max(heads, width // heads * heads)
    high = low + heads
    return high if high - width <= width - low or low < 1 else low


def largest_divisor(width: int, heads: int) -> int:
    """The most heads, at most ``heads``, that divide ``width``."""
    return max(h for h in range(1, heads + 1) if width % h == 0)


def check_heads(name: str, width: int, heads: int, what: str = "dim") -> None:
    """``what`` names the width: a parameter's name, or words marked with N_."""
    if width % heads:
        raise ShapeError(t(
            "{name}: {what} {width} does not divide into {heads} heads; use {what} {multiple} "
            "or {divisor} heads", name=name, what=t(what), width=width, heads=heads,
            multiple=nearest_multiple(width, heads), divisor=largest_divisor(width, heads)))
