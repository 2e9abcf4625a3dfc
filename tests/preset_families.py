"""Presets by what a page draws for them: the data set and the kinds of layers.

Two presets of one family differ only in settings (a learning rate, a depth, a seed), which
change the numbers on the page and not what is drawn. The browser trains one preset of
each family (and every lesson that diverges by design, for its restart button); the others
train from the same page through AppTest, which is a fraction of the cost.
"""

from __future__ import annotations

from engine.presets import list_presets, load_preset

DIVERGE_BY_DESIGN = frozenset({"exploding_init", "lr_too_large"})


def family(preset: str) -> tuple[str, tuple[str, ...]]:
    exp = load_preset(preset)
    return exp.data.name, tuple(sorted({node.type for node in exp.model.nodes}))


def one_per_family() -> list[str]:
    """The first preset of each family, and every preset that diverges by design."""
    firsts: dict[tuple[str, tuple[str, ...]], str] = {}
    for preset in list_presets():
        firsts.setdefault(family(preset), preset)
    return sorted(set(firsts.values()) | DIVERGE_BY_DESIGN)


def the_others() -> list[str]:
    chosen = set(one_per_family())
    return [p for p in list_presets() if p not in chosen]
