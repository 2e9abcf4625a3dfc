"""Shape checks shared by the sequence layers: what a sequence is, and how heads divide a
width."""

from __future__ import annotations

from engine.layers.base import Shape, ShapeError


def sequence(name: str, shape: Shape) -> tuple[int, int]:
    """(length, features) of a sequence input, or a ShapeError that says what to add."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 1:
        fix = ("for token ids [length] put an embedding node before it; for a flat vector "
               "use linear")
    elif len(shape) == 3:
        fix = "an image [channels, height, width] is no sequence; use conv2d for it"
    else:
        fix = "read a data set of sequences"
    raise ShapeError(f"{name} needs a sequence [length, features], got {list(shape)}; {fix}")


def nearest_multiple(width: int, heads: int) -> int:
    """The multiple of ``heads`` closest to ``width`` (the larger one on a tie)."""
    low = max(heads, width // heads * heads)
    high = low + heads
    return high if high - width <= width - low or low < 1 else low


def largest_divisor(width: int, heads: int) -> int:
    """The most heads, at most ``heads``, that divide ``width``."""
    return max(h for h in range(1, heads + 1) if width % h == 0)


def check_heads(name: str, width: int, heads: int, what: str = "dim") -> None:
    if width % heads:
        raise ShapeError(
            f"{name}: {what} {width} does not divide into {heads} heads; use {what} "
            f"{nearest_multiple(width, heads)} or {largest_divisor(width, heads)} heads")
