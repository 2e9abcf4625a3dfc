"""Token data is read by embeddings only.

A sequence set of symbols stores each token as a whole number (its id). Every other layer
computes with fractions, so a linear, recurrent or convolution node reading the ids would
fail at the first training step, and an embedding reading anything but the ids would
truncate fractions into wrong (or negative) ids. Both are refused with the spec, by place.
"""

from __future__ import annotations

from engine.data.base import DataBundle
from engine.errors import Issue
from engine.graph import INPUT, Plan
from engine.i18n import t


def reads_tokens(data: DataBundle) -> bool:
    """Whether the data's inputs are token ids (images are whole numbers too, but the model
    turns them into fractions before any node reads them)."""
    return data.image is None and not data.x_train.is_floating_point()


def token_issues(plan: Plan, data: DataBundle) -> list[Issue]:
    tokens = reads_tokens(data)
    sources = {INPUT, *plan.parts}
    issues = []
    for n in plan.nodes:
        from_data = [s for s in n.inputs if s in sources]
        if n.type == "embedding":
            if not tokens:
                issues.append(Issue(n.path, t(
                    "an embedding turns tokens into vectors, and this data set's inputs are "
                    "numbers, not tokens; remove the embedding"), "embedding_input"))
            elif len(from_data) < len(n.inputs):
                issues.append(Issue(n.path, t(
                    "an embedding reads the data's tokens, not another node's output; set its "
                    "input to {sources}", sources=" or ".join(sorted(sources))),
                    "embedding_input"))
        elif tokens and from_data:
            issues.append(Issue(n.path, t(
                "{type} cannot read tokens (symbols stored as whole numbers) directly; put an "
                "embedding node between the data and it", type=n.type), "token_input"))
    return issues
